import API
import APICore
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// What a real socket gets for raw control characters in a header or the request target. NIO's HTTP parser
/// refuses all but the tab with a bare `400 Bad Request` (no body, connection closed) before Hummingbird sees the
/// request; a tab in a header value reaches the control-character gate, which answers Trove's 400 naming the
/// header. Never a 5xx, never the route.
@Suite("Control characters in raw HTTP requests")
struct RawHeaderTests {
    static let controlBytes = Array(UInt8(0x00)...UInt8(0x1F)) + [0x7F]

    @Test("in a header value", arguments: controlBytes)
    func header(byte: UInt8) async throws {
        let request =
            Array("GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Probe: a".utf8) + [byte]
            + Array("b\r\nConnection: close\r\n\r\n".utf8)
        let answer = try await Self.serve(request)
        #expect(answer.hasPrefix("HTTP/1.1 400 "), "0x\(String(byte, radix: 16)): \(answer.prefix(80).debugDescription)")
        if byte == 0x09 {
            #expect(answer.contains(#""message":"header 'X-Probe' contains a control character (U+0009); remove it.""#))
            #expect(answer.contains(#"{"badRequest":{"#))
        }
    }

    @Test("in the request target", arguments: controlBytes)
    func target(byte: UInt8) async throws {
        let request = Array("GET /openapi.json?x=a".utf8) + [byte] + Array("b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        let answer = try await Self.serve(request)
        #expect(answer.hasPrefix("HTTP/1.1 400 "), "0x\(String(byte, radix: 16)): \(answer.prefix(80).debugDescription)")
    }

    /// Serves `GET /openapi.json` (behind the gate) on a real port and returns the raw answer to `request`.
    static func serve(_ request: [UInt8]) async throws -> String {
        let router = Router(context: CellarRequestContext.self)
        router.add(middleware: TroveErrorMiddleware())
        router.addOpenAPIRoute(document: OpenAPITests.documentURL)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            let port = try #require(client.port)
            // A blocking socket gets a thread of its own: it must not hold one the server's handlers need.
            return try await withCheckedThrowingContinuation { continuation in
                Thread { continuation.resume(with: Result { try exchange(request, port: port) }) }.start()
            }
        }
    }

    /// Sends `request` to 127.0.0.1:`port`; what the server answers before it closes or 2 s pass.
    static func exchange(_ request: [UInt8], port: Int) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "(no socket)" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "(no connection)" }
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while answer.count < 65536 {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            answer += buffer[..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
