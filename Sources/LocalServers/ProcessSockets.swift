import Foundation

/// A TCP socket a process holds, from `/proc/<pid>/fd` and `/proc/net/tcp{,6}`.
public struct TCPSocketEntry: Sendable, Equatable, CustomStringConvertible {
    public var localPort: Int
    public var remotePort: Int
    /// True for a listening socket.
    public var listening: Bool

    public var description: String { listening ? "listening on :\(localPort)" : ":\(localPort) → :\(remotePort)" }
}

extension ProcessStatus {
    /// The TCP sockets among the process's open descriptors (an operator's check that a child inherited nothing).
    public static func tcpSockets(of pid: Int32) -> [TCPSocketEntry] {
        let folder = "/proc/\(pid)/fd"
        let inodes = Set(
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).compactMap { entry -> String? in
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(entry)"),
                    target.hasPrefix("socket:[")
                else { return nil }
                return String(target.dropFirst("socket:[".count).dropLast())
            })
        return ["/proc/\(pid)/net/tcp", "/proc/\(pid)/net/tcp6"].flatMap { table -> [TCPSocketEntry] in
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").dropFirst().compactMap { line in
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                let fields = line.split(separator: " ")
                guard fields.count > 9, inodes.contains(String(fields[9])),
                    let local = port(of: fields[1]), let remote = port(of: fields[2])
                else { return nil }
                return TCPSocketEntry(localPort: local, remotePort: remote, listening: fields[3] == "0A")
            }
        }
    }

    /// The port of a `/proc/net/tcp` address (`0100007F:1F90`).
    private static func port(of address: Substring) -> Int? {
        address.split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }
}
