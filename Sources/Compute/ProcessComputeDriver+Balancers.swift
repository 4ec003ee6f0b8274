import Foundation
import LocalServers

#if canImport(Glibc)
import Glibc
#endif

/// Load balancers: one HAProxy per cluster, in master-worker mode, in the folder `<root>/cluster-<id>/` beside
/// the instances' (so `stopAll` stops it with them). A new configuration is checked (`haproxy -c`) and then
/// loaded by a reload (SIGUSR2 to the master): new workers take new connections while the old ones keep the
/// established connections until they close.
extension ProcessComputeDriver {
    /// The folder of a cluster's balancer.
    public func balancerDirectory(of clusterID: String) -> URL { directory(of: "cluster-\(clusterID)") }

    /// Starts the balancer, or reloads it when its configuration changed.
    public func applyBalancer(_ request: BalancerRequest) async throws {
        try await onDedicatedThread { try applyBalancerBlocking(request) }
    }

    /// Stops the balancer and removes its folder (idempotent).
    public func removeBalancer(clusterID: String) async throws {
        try await onDedicatedThread {
            let folder = balancerDirectory(of: clusterID)
            guard FileManager.default.fileExists(atPath: folder.path) else { return }
            try withLock("cluster-\(clusterID)") {
                if let pid = balancerPID(clusterID) { ProcessStatus.terminate(pid: pid, timeout: 5) }
                for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where entry != ".lock" {
                    try FileManager.default.removeItem(at: folder.appendingPathComponent(entry))
                }
            }
            try? FileManager.default.removeItem(at: folder)
            try? FileManager.default.removeItem(at: Self.runtimeDirectory(of: "cluster-\(clusterID)"))
        }
    }

    /// Whether the balancer runs (`absent`: never configured, or removed).
    public func balancerStatus(clusterID: String) async -> ServerStatus {
        guard FileManager.default.fileExists(atPath: balancerDirectory(of: clusterID).appendingPathComponent("haproxy.cfg").path) else {
            return .absent
        }
        return balancerPID(clusterID) == nil ? .stopped : .running
    }

    /// Starts again a configured balancer that is not running (after the host stopped everything).
    public func reviveBalancer(clusterID: String) async throws {
        try await onDedicatedThread {
            try withLock("cluster-\(clusterID)") {
                guard balancerPID(clusterID) == nil else { return }
                try startBalancer(clusterID)
            }
        }
    }

    /// The members as the balancer sees them now, from its stats socket.
    public func balancerBackends(clusterID: String) async throws -> [BalancerBackendState] {
        try await Self.balancerBackends(clusterID: clusterID)
    }

    /// The same, for any process on this host (the API's `/metrics`): the stats socket's path is fixed.
    public static func balancerBackends(clusterID: String) async throws -> [BalancerBackendState] {
        let socket = runtimeDirectory(of: "cluster-\(clusterID)").appendingPathComponent("haproxy.sock").path
        return try await onDedicatedThread { HAProxy.backendStates(fromStats: try UnixSocket.exchange(path: socket, request: "show stat\n")) }
    }

    // MARK: - Blocking work

    private func applyBalancerBlocking(_ request: BalancerRequest) throws {
        let folder = balancerDirectory(of: request.clusterID)
        try withLock("cluster-\(request.clusterID)") {
            let runtime = Self.runtimeDirectory(of: "cluster-\(request.clusterID)")
            try FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let text = HAProxy.configuration(
                request, statsSocket: runtime.appendingPathComponent("haproxy.sock").path,
                stateFile: folder.appendingPathComponent("haproxy.state").path)
            let file = folder.appendingPathComponent("haproxy.cfg")
            let candidate = folder.appendingPathComponent("haproxy.cfg.new")
            let current = try? String(contentsOf: file, encoding: .utf8)
            let running = balancerPID(request.clusterID)
            if current == text, running != nil { return }
            try Data(text.utf8).write(to: candidate)
            do {
                try CommandRunner.run(HAProxy.executable, ["-c", "-q", "-f", candidate.path])
            } catch let failure as CommandFailure {
                throw ComputeError("the balancer's configuration was refused: \(failure.output)")
            }
            guard rename(candidate.path, file.path) == 0 else {
                throw ComputeError("cannot write \(file.path): \(String(cString: strerror(errno)))")
            }
            if let running {
                try reload(request.clusterID, master: running)
            } else {
                try startBalancer(request.clusterID)
            }
        }
    }

    /// Starts HAProxy's master on the folder's configuration and waits until it listens (its stats socket).
    private func startBalancer(_ clusterID: String) throws {
        let folder = balancerDirectory(of: clusterID)
        let runtime = Self.runtimeDirectory(of: "cluster-\(clusterID)")
        try FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let socket = runtime.appendingPathComponent("haproxy.sock")
        try? FileManager.default.removeItem(at: socket)
        let pid = try spawn(
            HAProxy.executable, ["-W", "-db", "-f", folder.appendingPathComponent("haproxy.cfg").path],
            environment: [:], outputPath: folder.appendingPathComponent("haproxy.log").path, append: true,
            inheritEnvironment: false)
        reapWhenExits(pid)
        try Data("\(pid)".utf8).write(to: folder.appendingPathComponent("haproxy.pid"))
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !FileManager.default.fileExists(atPath: socket.path) {
            guard ProcessStatus.isAlive(pid: pid) else {
                let log = (try? String(contentsOf: folder.appendingPathComponent("haproxy.log"), encoding: .utf8)) ?? ""
                throw ComputeError("the balancer of cluster \(clusterID) exited at start: \(log.suffix(500))")
            }
            usleep(20_000)
        }
        try awaitFirstChecks(clusterID)
    }

    /// Reloads the master and returns once the new worker serves and the old one no longer accepts: a connection
    /// made after this returns is balanced by the new configuration (HAProxy reloads asynchronously).
    private func reload(_ clusterID: String, master: Int32) throws {
        let socket = Self.runtimeDirectory(of: "cluster-\(clusterID)").appendingPathComponent("haproxy.sock").path
        func servingWorker() -> Int32? {
            guard let info = try? UnixSocket.exchange(path: socket, request: "show info\n") else { return nil }
            return HAProxy.workerPID(fromInfo: info)
        }
        let oldWorker = servingWorker()
        if let states = try? UnixSocket.exchange(path: socket, request: "show servers state\n") {
            try? Data(states.utf8).write(to: balancerDirectory(of: clusterID).appendingPathComponent("haproxy.state"))
        }
        kill(master, SIGUSR2)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let worker = servingWorker(), worker != oldWorker,
                oldWorker.map({ !ProcessStatus.isAlive(pid: $0) || !ListeningSockets.held(by: $0) }) ?? true
            {
                return try awaitFirstChecks(clusterID)
            }
            usleep(10_000)
        }
        throw ComputeError("the balancer of cluster \(clusterID) did not finish its reload within 10 s")
    }

    /// Waits until the balancer has checked every member once (new members start unchecked, counted as up).
    private func awaitFirstChecks(_ clusterID: String) throws {
        let socket = Self.runtimeDirectory(of: "cluster-\(clusterID)").appendingPathComponent("haproxy.sock").path
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let stats = try? UnixSocket.exchange(path: socket, request: "show stat\n"), !HAProxy.checksPending(fromStats: stats) { return }
            usleep(20_000)
        }
        throw ComputeError("the balancer of cluster \(clusterID) did not check its members within 10 s")
    }

    /// The live HAProxy master of the cluster (its command line names the cluster's folder: PIDs are reused).
    func balancerPID(_ clusterID: String) -> Int32? {
        let folder = balancerDirectory(of: clusterID)
        guard let text = try? String(contentsOf: folder.appendingPathComponent("haproxy.pid"), encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), ProcessStatus.isAlive(pid: pid),
            ProcessStatus.commandLine(of: pid)?.contains(folder.path + "/haproxy.cfg") == true
        else { return nil }
        return pid
    }
}

/// Whether a process still holds a listening TCP socket (read from `/proc`).
enum ListeningSockets {
    static func held(by pid: Int32) -> Bool {
        let listening = listeningInodes()
        let descriptors = "/proc/\(pid)/fd"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: descriptors)) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(descriptors)/\(entry)"),
                target.hasPrefix("socket:["), let inode = UInt64(target.dropFirst(8).dropLast())
            else { continue }
            if listening.contains(inode) { return true }
        }
        return false
    }

    /// The inodes of the host's TCP sockets in state LISTEN (`0A`), IPv4 and IPv6.
    private static func listeningInodes() -> Set<UInt64> {
        var inodes: Set<UInt64> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                if fields.count > 9, fields[3] == "0A", let inode = UInt64(fields[9]) { inodes.insert(inode) }
            }
        }
        return inodes
    }
}

/// A request and its whole answer over a Unix stream socket (HAProxy's stats socket).
enum UnixSocket {
    static func exchange(path: String, request: String) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ComputeError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw ComputeError("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw ComputeError("cannot reach \(path): \(String(cString: strerror(errno)))") }
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
