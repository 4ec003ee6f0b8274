/// Who is calling: the user and project of a validated token, and the roles the user has in that project.
public struct AuthContext: Sendable, Equatable {
    public var userID: String
    public var userName: String
    public var projectID: String
    public var projectName: String
    /// `admin`, `member`, `reader`.
    public var roles: [String]

    public init(userID: String, userName: String, projectID: String, projectName: String, roles: [String]) {
        self.userID = userID
        self.userName = userName
        self.projectID = projectID
        self.projectName = projectName
        self.roles = roles
    }

    /// May use admin-only routes and see every project.
    public var isAdmin: Bool { roles.contains("admin") }
    /// May change things (a `reader` may only look).
    public var canWrite: Bool { isAdmin || roles.contains("member") }
}

/// Turns an `X-Auth-Token` into the caller, or nil when the token is unknown, expired or revoked.
public protocol TokenValidator: Sendable {
    func validate(token: String) async throws -> AuthContext?
}
