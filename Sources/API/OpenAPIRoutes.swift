import APICore
import Foundation
import Hummingbird

extension Router {
    /// `GET /openapi.json`: the OpenAPI document of every route Cellar serves (`openapi/openapi.json` of the project),
    /// behind the control-character gate.
    ///
    /// The file is read once, here. When it is missing or not JSON the route still exists and answers 503 with a
    /// Trove-style `{"serviceUnavailable": {...}}` body saying so, rather than failing the server's start.
    public func addOpenAPIRoute(document: URL) {
        let served = OpenAPIDocument.load(document)
        group().add(middleware: ControlCharacterMiddleware<Context>.trove).get("/openapi.json") { _, _ -> Response in served.response() }
    }
}

/// The document as read at registration: its bytes, or why it could not be served.
enum OpenAPIDocument: Sendable {
    case document(ByteBuffer)
    case unavailable(String)

    static func load(_ url: URL) -> OpenAPIDocument {
        // Name the file by its last two components only: enough for an operator, without the server's layout.
        let name = url.pathComponents.suffix(2).joined(separator: "/")
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? "it could not be read" : "it does not exist"
            return .unavailable("The OpenAPI document is not available: the server could not load \(name) when it started (\(reason)).")
        }
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            return .unavailable("The OpenAPI document is not available: \(name) is not a JSON object.")
        }
        return .document(ByteBuffer(bytes: data))
    }

    private struct Fault: Encodable {
        var code: Int
        var message: String
    }

    func response() -> Response {
        switch self {
        case .document(let bytes):
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: bytes))
        case .unavailable(let message):
            let body = ["serviceUnavailable": Fault(code: 503, message: message)]
            let data = (try? JSONEncoder().encode(body)) ?? Data("{}".utf8)
            return Response(
                status: .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
