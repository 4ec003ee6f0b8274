import Foundation
import Hummingbird

extension IdentityRoutes {
    /// `POST /v3/auth/tokens`: 201, the token in `X-Subject-Token`, the token body with the catalog. A source with
    /// too many recent failures is refused before any password is checked.
    func issueToken(_ request: Request, from source: String?) async throws -> Response {
        if let wait = throttle.refusal(for: source) {
            throw IdentityError.tooManyFailedLogins(retryAfterSeconds: max(1, Int(wait.components.seconds) + 1))
        }
        let authRequest = try PasswordAuthRequest(json: try await readBody(request))
        let issued: IssuedToken
        do {
            issued = try await store.authenticate(authRequest)
        } catch let error as IdentityError where [.invalidCredentials, .accountLocked].contains(error) {
            throttle.recordFailure(from: source)
            throw error
        }
        let json = KeystoneBodies.token(
            issued.info, catalog: catalog, baseURL: catalog.baseURL(for: request),
            includeCatalog: !wantsNoCatalog(request))
        return json.response(status: .created, headers: [Self.subjectToken: issued.token])
    }

    /// `GET|HEAD /v3/auth/tokens`: 200 with the subject token's body (GET) or none (HEAD); 404 when it is not valid.
    func checkToken(_ request: Request, withBody: Bool) async throws -> Response {
        let (subject, info) = try await subjectToken(request, policy: "identity:validate_token")
        let headers: HTTPFields = [Self.subjectToken: subject]
        guard withBody else { return Response(status: .ok, headers: headers) }
        let json = KeystoneBodies.token(
            info, catalog: catalog, baseURL: catalog.baseURL(for: request),
            includeCatalog: !wantsNoCatalog(request))
        return json.response(status: .ok, headers: headers)
    }

    /// `DELETE /v3/auth/tokens`: 204 once the subject token is revoked.
    func revokeToken(_ request: Request) async throws -> Response {
        let (subject, _) = try await subjectToken(request, policy: "identity:revoke_token")
        guard try await store.revoke(token: subject) else { throw IdentityError.tokenNotFound }
        return Response(status: .noContent)
    }

    /// The caller (valid `X-Auth-Token`) and the valid `X-Subject-Token` it asks about; an admin may ask about any
    /// token, anyone else only about their own (Keystone's `service_admin_or_token_subject`).
    private func subjectToken(_ request: Request, policy: String) async throws -> (String, TokenInfo) {
        let caller = try await caller(request)
        guard let subject = request.headers[Self.subjectToken] else {
            throw IdentityError.malformedRequest("the X-Subject-Token header is required: it names the token to check or revoke")
        }
        guard let info = try await store.tokenInfo(token: subject) else { throw IdentityError.tokenNotFound }
        guard caller.context.isAdmin || caller.userID == info.userID else { throw IdentityError.forbidden(policy) }
        return (subject, info)
    }

    /// The request body, refused with 413 once it passes `maximumBodyBytes`.
    private func readBody(_ request: Request) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in request.body {
            guard bytes.count + chunk.readableBytes <= Self.maximumBodyBytes else {
                throw KeystoneError(status: .contentTooLarge, message: "Request is too large.")
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }

    /// `?nocatalog` leaves the catalog out, as Keystone does.
    private func wantsNoCatalog(_ request: Request) -> Bool {
        request.uri.queryParameters.has("nocatalog")
    }
}
