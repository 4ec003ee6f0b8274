import Foundation
import Hummingbird

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
}
