import APICore
import Foundation

extension IdentityStore: ConsoleSignIn {
    public func signIn(user: String, password: String, project: String) async throws -> ConsoleSession {
        do {
            let issued = try await authenticate(.names(user: user, password: password, project: project))
            return ConsoleSession(token: issued.token, caller: issued.info.context, expiresAt: issued.info.expiresAt)
        } catch let error as IdentityError {
            switch error {
            case .invalidCredentials, .invalidScope, .unscopedTokenRefused:
                throw ConsoleSignInRefused("The user name, password or project is wrong, or the user has no role on that project.")
            default:
                throw error
            }
        }
    }

    public func signOut(token: String) async throws {
        try await revoke(token: token)
    }
}
