import Foundation

/// A console session: the token the identity service issued for the user, and who it stands for.
public struct ConsoleSession: Sendable {
    public var token: String
    public var caller: AuthContext
    public var expiresAt: Date?

    public init(token: String, caller: AuthContext, expiresAt: Date?) {
        self.token = token
        self.caller = caller
        self.expiresAt = expiresAt
    }
}

/// Why a sign-in was refused, in words for the person at the login form.
public struct ConsoleSignInRefused: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Signs console users in and out through the identity service (Cellar's own or an external Keystone): the
/// console holds the same project-scoped token `openstack` would, no other kind of credential.
public protocol ConsoleSignIn: Sendable {
    /// A token for `user` (by name, default domain) scoped to `project` (by name).
    /// - Throws: `ConsoleSignInRefused` for wrong credentials or a project the user has no role on.
    func signIn(user: String, password: String, project: String) async throws -> ConsoleSession
    /// Revokes the token (logging out); a token that is gone already is no error.
    func signOut(token: String) async throws
}
