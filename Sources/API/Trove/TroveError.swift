import EventStore
import Foundation
import Hummingbird
import Lifecycle

/// An error answered in Trove's shape: `{"badRequest": {"code": 400, "message": "..."}}`.
public struct TroveError: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// Trove's fault name (`badRequest`, `itemNotFound`, ...).
    public var fault: String
    public var message: String
    /// Seconds until a rate-limited request may be sent again (413 only).
    public var retryAfter: Int?
    /// The methods the path takes (405 only: the `Allow` header).
    public var allowedMethods: [String]?

    public init(_ status: HTTPResponse.Status, _ fault: String, _ message: String) {
        self.status = status
        self.fault = fault
        self.message = message
    }

    public static func badRequest(_ message: String) -> TroveError { TroveError(.badRequest, "badRequest", message) }
    public static func unauthorized(_ message: String = "The request you have made requires authentication.") -> TroveError {
        TroveError(.unauthorized, "unauthorized", message)
    }
    public static func forbidden(_ message: String) -> TroveError { TroveError(.forbidden, "forbidden", message) }
    public static func notFound(_ message: String) -> TroveError { TroveError(.notFound, "itemNotFound", message) }
    public static func conflict(_ message: String) -> TroveError { TroveError(.conflict, "conflictingRequest", message) }
    public static func unprocessable(_ message: String) -> TroveError { TroveError(.unprocessableContent, "unprocessableEntity", message) }
    public static func overLimit(_ message: String) -> TroveError { TroveError(.contentTooLarge, "overLimit", message) }
    public static func notImplemented(_ message: String) -> TroveError { TroveError(.notImplemented, "notImplemented", message) }
    public static func badMediaType(_ message: String) -> TroveError { TroveError(.unsupportedMediaType, "badMediaType", message) }

    public var description: String { "\(status.code) \(fault): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = [fault: Body(code: Int(status.code), message: message, retryAfter: retryAfter.map(String.init))]
        let data = try JSONEncoder().encode(body)
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let allowedMethods { headers[.allow] = allowedMethods.joined(separator: ", ") }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    struct Body: Encodable {
        var code: Int
        var message: String
        var retryAfter: String?
    }

    /// The Trove error for a domain rejection (422 for "not in this state", as Trove answers).
    public static func from(_ rejection: Rejection) -> TroveError {
        switch rejection.kind {
        case .invalidInput: .badRequest(rejection.message)
        case .notAllowedInState: .unprocessable(rejection.message)
        case .notFound: .notFound(rejection.message)
        }
    }
}

/// Turns every error a route throws into a Trove error body; unexpected ones become a 500 without internals.
public struct TroveErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The server's routes: a known path asked with another method is a 405, not a 404.
    let knownRoutes: KnownRoutes?

    public init(knownRoutes: KnownRoutes? = nil) { self.knownRoutes = knownRoutes }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as TroveError {
            throw error
        } catch let rejection as Rejection {
            throw TroveError.from(rejection)
        } catch let conflict as WrongExpectedVersion {
            throw TroveError.conflict("the resource changed while the request was processed (\(conflict.streamID)); retry it")
        } catch let error as HTTPError {
            if error.status == .notFound, let allowed = knownRoutes?.methods(for: request.uri.path), !allowed.isEmpty {
                var refusal = TroveError(.methodNotAllowed, "badMethod", "\(request.method) is not allowed on \(request.uri.path); it takes \(allowed.joined(separator: ", ")).")
                refusal.allowedMethods = allowed
                throw refusal
            }
            throw TroveError(error.status, Self.faultName(error.status), error.body ?? error.status.reasonPhrase)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            throw TroveError(.internalServerError, "instanceFault", "The server could not complete the request; it was logged.")
        }
    }

    static func faultName(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "badRequest"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "itemNotFound"
        case 405: "badMethod"
        case 409: "conflictingRequest"
        case 413: "overLimit"
        case 415: "badMediaType"
        case 422: "unprocessableEntity"
        case 501: "notImplemented"
        case 503: "serviceUnavailable"
        default: "instanceFault"
        }
    }
}
