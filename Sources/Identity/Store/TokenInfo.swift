import APICore
import Foundation

/// What a valid token stands for: the user, the project it is scoped to, the roles, and its lifetime.
public struct TokenInfo: Sendable, Equatable {
    /// The user's id.
    public var userID: String
    /// The user's name.
    public var userName: String
    /// The project the token is scoped to.
    public var projectID: String
    /// That project's name.
    public var projectName: String
    /// The user's roles on the project (those held at issue time and still assigned), sorted by name.
    public var roles: [Role]
    /// When it was issued (whole microseconds).
    public var issuedAt: Date
    /// When it stops being valid (whole microseconds).
    public var expiresAt: Date
    /// Keystone's audit id: names the token in logs without revealing it.
    public var auditID: String

    /// The caller, as the rest of Cellar sees it.
    public var context: AuthContext {
        AuthContext(userID: userID, userName: userName, projectID: projectID, projectName: projectName, roles: roles.map(\.name))
    }
}

/// A token just issued: the secret (shown once, stored only as its SHA-256) and what it stands for.
public struct IssuedToken: Sendable, Equatable {
    /// The bearer token for `X-Auth-Token`.
    public var token: String
    /// Its user, project, roles and lifetime.
    public var info: TokenInfo
}

extension IssuedToken: CustomStringConvertible {
    /// The token without its secret.
    public var description: String { "IssuedToken(audit_id: \(info.auditID), user: \(info.userName), project: \(info.projectName))" }
}

extension Date {
    /// Whole microseconds since 1970 (PostgreSQL's precision), rounded down.
    var microsecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded(.down)) }

    /// The instant `microseconds` after 1970; stored and read back as integers, so it compares equal afterwards.
    init(microsecondsSince1970 microseconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(microseconds) / 1_000_000)
    }
}
