import APICore
import EventStore
import Foundation
import Hummingbird
import Lifecycle

extension TroveError {
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
                var refusal = TroveError(
                    .methodNotAllowed, "badMethod",
                    "\(request.method) is not allowed on \(request.uri.path); it takes \(allowed.joined(separator: ", ")).")
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
