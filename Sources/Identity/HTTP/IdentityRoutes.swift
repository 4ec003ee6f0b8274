import APICore
import Foundation
import Hummingbird
import Logging

extension Router {
    /// Serves the Keystone-v3 subset at `/v3` and `/identity/v3`, and version discovery at `/identity`.
    ///
    /// Routes: `GET /v3` (discovery), `POST|GET|HEAD|DELETE /v3/auth/tokens`, `GET /v3/auth/projects`,
    /// `GET /v3/users/{id}/projects` (own or admin), and the admin-only `GET /v3/projects` and `GET /v3/users`. Errors use Keystone's body; a request Cellar cannot read
    /// (a control character in any of its strings included) is a 400, never a 5xx.
    public func addIdentityRoutes(store: IdentityStore, catalog: ServiceCatalog, throttle: LoginThrottle = LoginThrottle()) {
        let routes = IdentityRoutes(store: store, catalog: catalog, throttle: throttle)
        // Control characters in the path, query or headers (the tokens too) are refused before any handler runs.
        let gated = group().add(middleware: ControlCharacterMiddleware<Context>.keystone)
        routes.add(to: gated.group("v3"), prefix: "/v3")
        routes.add(to: gated.group("identity/v3"), prefix: "/identity/v3")
        gated.get("identity") { request, _ in routes.versions(request, prefix: "/identity/v3") }
    }
}

/// The handlers behind `addIdentityRoutes`, shared by both mount points.
struct IdentityRoutes: Sendable {
    let store: IdentityStore
    let catalog: ServiceCatalog
    /// Failed logins per source address.
    let throttle: LoginThrottle
    var logger: Logger { store.logger }

    static let authToken = HTTPFields.Element.Name("X-Auth-Token")!
    static let subjectToken = HTTPFields.Element.Name("X-Subject-Token")!
    /// Authentication bodies are small; anything larger is refused before it is read.
    static let maximumBodyBytes = 64 * 1024

    func add<Group: RouterMethods>(to group: Group, prefix: String) {
        group.get { request, _ in version(request, prefix: prefix) }
        group.post("auth/tokens") { request, context in
            await answer { try await issueToken(request, from: (context as? CellarRequestContext)?.remoteAddress) }
        }
        group.get("auth/tokens") { request, _ in await answer { try await checkToken(request, withBody: true) } }
        group.head("auth/tokens") { request, _ in await answer { try await checkToken(request, withBody: false) } }
        group.delete("auth/tokens") { request, _ in await answer { try await revokeToken(request) } }
        group.get("auth/projects") { request, _ in await answer { try await callerProjects(request, prefix: prefix) } }
        group.get("projects") { request, _ in await answer { try await allProjects(request, prefix: prefix) } }
        group.get("users") { request, _ in await answer { try await allUsers(request, prefix: prefix) } }
        group.get("users/:user_id/projects") { request, context in
            let userID = context.parameters.get("user_id") ?? ""
            return await answer { try await userProjects(request, userID: userID, prefix: prefix) }
        }
    }

    /// `GET /v3`: the version document keystoneauth discovers.
    func version(_ request: Request, prefix: String) -> Response {
        let body: KeystoneJSON = ["version": KeystoneBodies.version(href: catalog.baseURL(for: request) + prefix + "/")]
        return body.response(status: .ok)
    }

    /// `GET /identity`: the list of versions (one), with 300 as Keystone answers at its root.
    func versions(_ request: Request, prefix: String) -> Response {
        let body: KeystoneJSON = ["versions": ["values": [KeystoneBodies.version(href: catalog.baseURL(for: request) + prefix + "/")]]]
        return body.response(status: .multipleChoices)
    }

    /// Runs a handler and turns whatever it throws into Keystone's error body.
    func answer(_ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch let error as IdentityError {
            return KeystoneError(error).response
        } catch let error as KeystoneError {
            return error.response
        } catch {
            logger.error("identity request failed", metadata: ["error": "\(String(reflecting: error))"])
            return KeystoneError(
                status: .internalServerError,
                message: "An unexpected error prevented the server from fulfilling your request."
            ).response
        }
    }

    /// The caller behind `X-Auth-Token`; 401 when it is missing or not valid.
    func caller(_ request: Request) async throws -> TokenInfo {
        guard let token = request.headers[Self.authToken], let info = try await store.tokenInfo(token: token) else {
            throw IdentityError.invalidCredentials
        }
        return info
    }

    /// The caller, who must hold `admin`; 403 naming `policy` otherwise.
    func admin(_ request: Request, policy: String) async throws -> TokenInfo {
        let info = try await caller(request)
        guard info.context.isAdmin else { throw IdentityError.forbidden(policy) }
        return info
    }
}
