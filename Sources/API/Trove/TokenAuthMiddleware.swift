import APICore
import Hummingbird

/// Validates `X-Auth-Token` (or the web console's session cookie, see `WebConsole`) and scopes the request to the
/// token's project.
///
/// The `{tenant}` path segment must be the token's project (Trove answers 403 otherwise); admins may act on
/// any project.
public struct TokenAuthMiddleware: RouterMiddleware {
    public typealias Context = CellarRequestContext
    let validator: any TokenValidator

    public init(validator: any TokenValidator) { self.validator = validator }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let header = request.headers[.init("X-Auth-Token")!].flatMap { $0.isEmpty ? nil : $0 }
        guard let token = header ?? WebConsole.apiToken(in: request) else { throw TroveError.unauthorized() }
        guard let auth = try await validator.validate(token: token) else {
            throw TroveError.unauthorized("The token is unknown, expired or revoked; authenticate again.")
        }
        if let tenant = context.parameters.get("tenant"), tenant != auth.projectID, !auth.isAdmin {
            throw TroveError.forbidden("The token is scoped to project \(auth.projectID), not \(tenant).")
        }
        var context = context
        context.auth = auth
        context.logger[metadataKey: "user"] = "\(auth.userID)"
        var response = try await next(request, context)
        response.headers[.init("X-Openstack-Request-Id")!] = context.requestID
        return response
    }
}
