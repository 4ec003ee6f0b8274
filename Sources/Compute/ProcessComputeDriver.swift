import Foundation
import LocalServers
#if canImport(Glibc)
import Glibc
#endif

/// The default compute driver: each instance is a folder under `root` (`<root>/<instance id>/`) with its own
/// `cellar guestagent` process, started in a session of its own so it outlives the task manager that started
/// it. The folder is the whole truth: `server.json` says which process is the instance's guest agent, so a
/// restarted task manager finds it again, and a lock file keeps two task managers from starting it twice.
public struct ProcessComputeDriver: ComputeDriver {
    /// Where instance folders live (`<state>/instances`).
    public let root: URL
    /// How to start a guest agent.
    public let guest: GuestLaunch

    /// The command line and environment of guest agents.
    public struct GuestLaunch: Sendable {
        /// The `cellar` executable.
        public var executable: String
        /// The broker URL of a guest, with its own broker user (passed in its environment, never on the command line).
        public var brokerURL: @Sendable (_ instanceID: String) throws -> String
        /// Seconds between heartbeats.
        public var heartbeatInterval: Double
        /// The OS user datastore servers run as when the guest runs as root.
        public var databaseOSUser: String
        /// The key of a guest (base64), which opens the passwords sealed for it; written into its folder only.
        public var guestKey: @Sendable (_ instanceID: String) -> String

        /// Creates a launch description.
        public init(executable: String, brokerURL: @escaping @Sendable (_ instanceID: String) throws -> String, heartbeatInterval: Double,
                    databaseOSUser: String, guestKey: @escaping @Sendable (_ instanceID: String) -> String) {
            self.executable = executable
            self.brokerURL = brokerURL
            self.heartbeatInterval = heartbeatInterval
            self.databaseOSUser = databaseOSUser
            self.guestKey = guestKey
        }
    }

    /// A driver keeping instance folders under `root`.
    public init(root: URL, guest: GuestLaunch) {
        self.root = root
        self.guest = guest
    }

    /// The folder of one instance.
    public func directory(of instanceID: String) -> URL { root.appendingPathComponent(instanceID, isDirectory: true) }

    /// A short folder for the instance's sockets (a Unix socket path may be at most 107 bytes, and instance
    /// folders can be deep): made on allocate, removed on release, like a VM's /run.
    public static func runtimeDirectory(of instanceID: String) -> URL {
        URL(fileURLWithPath: "/tmp/cellar-run/\(instanceID)", isDirectory: true)
    }

    public func allocate(_ request: ServerRequest) async throws -> Server {
        try await onDedicatedThread { try allocateBlocking(request) }
    }

    public func release(instanceID: String) async throws {
        try await onDedicatedThread { try releaseBlocking(instanceID) }
    }

    public func reboot(instanceID: String) async throws {
        try await onDedicatedThread {
            let record = try withLock(instanceID) { () -> ServerRecord in
                guard let record = readRecord(instanceID) else { throw ComputeError("instance \(instanceID) has no server to reboot") }
                if let pid = record.livePID(commandMarker: instanceID) { ProcessStatus.terminate(pid: pid, timeout: 10) }
                return record
            }
            _ = try allocateBlocking(ServerRequest(instanceID: instanceID, address: record.address, port: record.port,
                                                   datastore: record.datastore, datastoreVersion: record.datastoreVersion))
        }
    }

    public func powerOff(instanceID: String) async throws {
        try await onDedicatedThread {
            try withLock(instanceID) {
                let folder = directory(of: instanceID)
                var pids = Set(ProcessStatus.processes(commandLineContaining: folder.path + "/"))
                if let pid = readRecord(instanceID)?.livePID(commandMarker: instanceID) { pids.insert(pid) }
                for pid in pids { kill(pid, SIGKILL) }
                let deadline = Date().addingTimeInterval(5)
                while Date() < deadline && pids.contains(where: { ProcessStatus.isAlive(pid: $0) }) { usleep(20_000) }
            }
        }
    }

    public func status(instanceID: String) async -> ServerStatus {
        guard let record = readRecord(instanceID) else { return .absent }
        return record.livePID(commandMarker: instanceID) == nil ? .stopped : .running
    }

    /// Stops every instance's guest agent and datastore (for `cellar up`'s shutdown); folders stay, so the next
    /// `allocate` of each instance starts it again with its data. All at once: the time is one instance's
    /// grace period however many run.
    public func stopAll() {
        let instances = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        powerOff(instances.filter { !$0.hasPrefix(".") }.map(directory(of:)))  // `.prepared` holds no instance
    }

    // MARK: - Blocking work, on a thread of its own

    private func allocateBlocking(_ request: ServerRequest) throws -> Server {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return try withLock(request.instanceID) {
            let folder = directory(of: request.instanceID)
            if let record = readRecord(request.instanceID), record.livePID(commandMarker: request.instanceID) != nil {
                return record.server  // already running: found again, not started twice
            }
            let record = ServerRecord(
                serverID: "process-\(request.instanceID)", address: request.address, port: request.port,
                datastore: request.datastore, datastoreVersion: request.datastoreVersion,
                pid: try startGuest(request, in: folder), startedAt: Date())
            try JSONEncoder().encode(record).write(to: folder.appendingPathComponent("server.json"), options: .atomic)
            return record.server
        }
    }

    private func startGuest(_ request: ServerRequest, in folder: URL) throws -> Int32 {
        let runtime = Self.runtimeDirectory(of: request.instanceID)
        try FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: runtime.deletingLastPathComponent().path)
        // The guest's own key reaches it through its folder (mode 600), never through the bus or its command line.
        let keyFile = folder.appendingPathComponent("guest.key")
        try writePrivateFile(Data(guest.guestKey(request.instanceID).utf8), to: keyFile)
        let arguments = [
            "guestagent", "--instance-id", request.instanceID, "--directory", folder.path, "--runtime-directory", runtime.path,
            "--key-file", keyFile.path,
            "--address", request.address, "--port", "\(request.port)", "--datastore", request.datastore,
            "--heartbeat-interval", "\(guest.heartbeatInterval)", "--os-user", guest.databaseOSUser,
        ]
        let pid = try spawn(guest.executable, arguments, environment: ["CELLAR_AMQP_URL": try guest.brokerURL(request.instanceID)],
                            outputPath: folder.appendingPathComponent("guest.log").path, append: true, inheritEnvironment: false)
        reapWhenExits(pid)
        return pid
    }

    private func releaseBlocking(_ instanceID: String) throws {
        let folder = directory(of: instanceID)
        guard FileManager.default.fileExists(atPath: folder.path) else {
            try? FileManager.default.removeItem(at: Self.runtimeDirectory(of: instanceID))
            return
        }
        try withLock(instanceID) {
            powerOff(folder)
            try? FileManager.default.removeItem(at: Self.runtimeDirectory(of: instanceID))
            // Remove everything but the lock we hold; the folder itself goes last.
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where entry != ".lock" {
                try FileManager.default.removeItem(at: folder.appendingPathComponent(entry))
            }
        }
        try? FileManager.default.removeItem(at: folder)
        try? FileManager.default.removeItem(at: Self.runtimeDirectory(of: instanceID))
    }

    /// Ends every process that belongs to the instance (its guest agent, the datastore server it started):
    /// SIGTERM, then SIGKILL after 5 s, like a VM being powered off.
    private func powerOff(_ folder: URL) { powerOff([folder]) }

    /// Powers off several instances together: every process is signalled first, then all are waited for.
    private func powerOff(_ folders: [URL]) {
        var pids: Set<Int32> = []
        for folder in folders {
            pids.formUnion(ProcessStatus.processes(commandLineContaining: folder.path + "/"))
            if let record = readRecord(folder.lastPathComponent), let pid = record.livePID(commandMarker: folder.lastPathComponent) {
                pids.insert(pid)
            }
        }
        guard !pids.isEmpty else { return }
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && pids.contains(where: { ProcessStatus.isAlive(pid: $0) }) { usleep(50_000) }
        for pid in pids where ProcessStatus.isAlive(pid: pid) { kill(pid, SIGKILL) }
        // A killed postmaster's helpers exit on their own once they notice; wait for the listed ones.
        let after = Date().addingTimeInterval(5)
        while Date() < after && pids.contains(where: { ProcessStatus.isAlive(pid: $0) }) { usleep(50_000) }
    }

    private func readRecord(_ instanceID: String) -> ServerRecord? {
        guard let data = FileManager.default.contents(atPath: directory(of: instanceID).appendingPathComponent("server.json").path) else { return nil }
        return try? JSONDecoder().decode(ServerRecord.self, from: data)
    }

    /// Runs `body` holding an exclusive `flock` on the instance's lock file (across processes).
    func withLock<T>(_ instanceID: String, _ body: () throws -> T) throws -> T {
        let folder = directory(of: instanceID)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let fd = open(folder.appendingPathComponent(".lock").path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw ComputeError("cannot open the lock of instance \(instanceID): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ComputeError("cannot lock instance \(instanceID): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

/// `server.json`: what the driver started for an instance.
struct ServerRecord: Codable, Equatable {
    var serverID: String
    var address: String
    var port: Int
    var datastore: String
    var datastoreVersion: String
    var pid: Int32
    var startedAt: Date

    var server: Server { Server(serverID: serverID, address: address, port: port) }

    /// The guest agent's PID if that process is alive and still is this instance's guest agent (PIDs are reused).
    func livePID(commandMarker: String) -> Int32? {
        guard ProcessStatus.isAlive(pid: pid), let commandLine = ProcessStatus.commandLine(of: pid) else { return nil }
        return commandLine.contains("guestagent") && commandLine.contains(commandMarker) ? pid : nil
    }
}
