import Foundation
import GuestProtocol
import LocalServers
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Answers a cluster load balancer's health checks on the instance's own address (`BalancerCheck.port`): a
/// request for `/` gets 200 while the datastore may take clients (a Galera member synced with the primary
/// component), `/primary` and `/replica` while an active-passive member has that role; 503 otherwise. Asked
/// live on each check, never from a stale read model.
struct BalancerCheckServer: Sendable {
    let address: String
    let port: Int
    let answers: @Sendable (BalancerCheck.Question) async -> Bool
    let logger: Logger

    /// Serves until cancelled. While the port cannot be bound (another program holds it), the balancer counts
    /// the member as down, which is the truth for it; the guest tries again every second and serves once it can.
    func run() async {
        var reported = false
        while !Task.isCancelled {
            do {
                let listener = try Self.listen(address: address, port: port)
                if reported { logger.notice("the balancer check port is open", metadata: ["address": "\(address):\(port)"]) }
                await serve(on: listener)
                return
            } catch {
                if !reported {
                    logger.error(
                        "the balancer check port could not be opened; trying again every second",
                        metadata: ["address": "\(address):\(port)", "error": "\(error)"])
                    reported = true
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func serve(on listener: Int32) async {
        defer { close(listener) }
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                while !Task.isCancelled {
                    guard let client = try? await onDedicatedThread({ try Self.accept(listener) }) else { break }
                    group.addTask { await answer(client) }
                }
            }
        } onCancel: {
            shutdown(listener, Int32(SHUT_RDWR))
        }
    }

    private func answer(_ client: Int32) async {
        defer { close(client) }
        var request = [UInt8](repeating: 0, count: 2048)
        let count = recv(client, &request, request.count, 0)  // read before answering: closing on unread data resets the connection
        // `GET /primary HTTP/1.0`: the path is the second word of the request line.
        let line = String(decoding: request.prefix(max(0, count)), as: UTF8.self).split(separator: "\r\n").first ?? ""
        let path = line.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        let ok = await answers(BalancerCheck.Question(rawValue: path) ?? .ready)
        let body = ok ? "ready\n" : "not ready\n"
        let response =
            "HTTP/1.1 \(ok ? "200 OK" : "503 Service Unavailable")\r\nContent-Type: text/plain\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        _ = response.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    private static func listen(address: String, port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CheckError("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
            close(fd)
            throw CheckError("\(address) is not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw CheckError("bind \(address):\(port): \(reason)")
        }
        return fd
    }

    private static func accept(_ listener: Int32) throws -> Int32 {
        while true {
            let client = Glibc.accept(listener, nil, nil)
            if client >= 0 { return client }
            guard errno == EINTR else { throw CheckError("accept: \(String(cString: strerror(errno)))") }
        }
    }

    struct CheckError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
