import APICore
import AsyncHTTPClient
import Foundation
import NIOCore

extension KeystoneTokenValidator: ConsoleSignIn {
    /// Asks the external Keystone for a token for the user, as `openstack` would (`POST /v3/auth/tokens`).
    public func signIn(user: String, password: String, project: String) async throws -> ConsoleSession {
        let response = try await passwordLogin(user: user, password: password, project: project)
        switch response.status.code {
        case 201:
            guard let token = response.headers.first(name: "X-Subject-Token") else { throw unavailable("issued a token without X-Subject-Token") }
            let (caller, expires) = try Self.parse(try await body(of: response))
            return ConsoleSession(token: token, caller: caller, expiresAt: expires)
        case 400, 401, 403, 404:
            throw ConsoleSignInRefused(
                "Keystone refused the sign-in: the user name, password or project is wrong, or the user has no role on that project.")
        default:
            throw unavailable("answered \(response.status.code) to a sign-in")
        }
    }

    /// Revokes the token at Keystone (`DELETE /v3/auth/tokens`, the token revoking itself).
    public func signOut(token: String) async throws {
        var request = HTTPClientRequest(url: "\(configuration.authURL)/auth/tokens")
        request.method = .DELETE
        request.headers.add(name: "X-Auth-Token", value: token)
        request.headers.add(name: "X-Subject-Token", value: token)
        _ = try await send(request)
        forget(token: token)
    }
}
