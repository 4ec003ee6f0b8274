import Foundation
import Hummingbird

/// The per-request context of Cellar's HTTP server: who is calling (after token validation) and the request id
/// that every event caused by the request carries.
public struct CellarRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `TokenAuthMiddleware` for `/v1.0/...` routes.
    public var auth: AuthContext?
    /// `req-<uuid>`, echoed in the `X-Openstack-Request-Id` header.
    public var requestID: String
    /// The client's IP address (the connection's peer; nil in in-process tests).
    public var remoteAddress: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        auth = nil
        requestID = "req-\(UUID().uuidString.lowercased())"
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The caller; routes behind `TokenAuthMiddleware` always have one.
    public func caller() throws -> AuthContext {
        guard let auth else { throw TroveError.unauthorized() }
        return auth
    }
}
