import Foundation
import LocalServers

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.0 GET with a deadline to a server's health endpoint, for the failover monitor's probes (a stopped
/// guest's kernel still accepts the connection: the read's timeout is what notices). Runs on a thread of its own.
public enum HealthProbe {
    /// The answer's status line when it is 200 within `timeout`, else nil.
    public static func ask(address: String, port: Int, path: String, timeout: Duration) async -> String? {
        try? await onDedicatedThread { blockingAsk(address: address, port: port, path: path, timeout: timeout) }
    }

    static func blockingAsk(address: String, port: Int, path: String, timeout: Duration) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let micros = Int(timeout.components.seconds) * 1_000_000 + Int(timeout.components.attoseconds / 1_000_000_000_000)
        var limit = timeval(tv_sec: micros / 1_000_000, tv_usec: micros % 1_000_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &target.sin_addr) == 1 else { return nil }
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = "GET \(path) HTTP/1.0\r\n\r\n"
        guard request.withCString({ send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let line = String(decoding: buffer.prefix(count), as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? ""
        return line.contains(" 200 ") ? line : nil
    }
}
