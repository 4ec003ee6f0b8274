import Foundation
import LocalServers

#if canImport(Glibc)
import Glibc
#endif

/// The default compute driver: each instance is a folder under `root` (`<root>/<instance id>/`) with its own
/// `cellar guestagent` process, started in a session of its own so it outlives the task manager that started
/// it. The folder is the whole truth: `server.json` says which process is the instance's guest agent, so a
/// restarted task manager finds it again, and a lock file keeps two task managers from starting it twice.
///
/// Run as root (as `cellar up` and the task manager are on a server), the driver isolates instances as VMs are:
/// each instance (or cluster) gets an OS user of its own (`InstanceUser`), its folder and runtime folder belong to
/// that user alone (mode 700), and its guest agent starts as that user, never as root; the driver writes into
/// those folders only through fresh files renamed into place, never through a link the tenant could have planted.
public struct ProcessComputeDriver: ComputeDriver {
    /// Whether no program listens on `address:port` already.
    public func isFree(address: String, port: Int) -> Bool { Loopback.isFree(port: port, host: address) }

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
        /// The key of a guest (base64), which opens the passwords sealed for it; written into its folder only.
        public var guestKey: @Sendable (_ instanceID: String) -> String
        /// Makes the host's prepared data directory of a datastore (`<root>/.prepared`, readable by every instance's
        /// user, writable by none) when it is missing; the guest copies it instead of initializing from nothing.
        public var prepareDataDirectory: @Sendable (_ datastore: String, _ preparedFolder: URL) throws -> Void

        /// Creates a launch description.
        public init(
            executable: String, brokerURL: @escaping @Sendable (_ instanceID: String) throws -> String, heartbeatInterval: Double,
            guestKey: @escaping @Sendable (_ instanceID: String) -> String,
            prepareDataDirectory: @escaping @Sendable (_ datastore: String, _ preparedFolder: URL) throws -> Void
        ) {
            self.executable = executable
            self.brokerURL = brokerURL
            self.heartbeatInterval = heartbeatInterval
            self.guestKey = guestKey
            self.prepareDataDirectory = prepareDataDirectory
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
        runtimeRoot.appendingPathComponent(instanceID, isDirectory: true)
    }

    static let runtimeRoot = URL(fileURLWithPath: "/tmp/cellar-run", isDirectory: true)

    /// True when instances get OS users of their own (the driver runs as root).
    public static var isolatesInstances: Bool { geteuid() == 0 }

    /// Where the prepared data directories are.
    var preparedFolder: URL { root.appendingPathComponent(".prepared", isDirectory: true) }

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
            _ = try allocateBlocking(
                ServerRequest(
                    instanceID: instanceID, address: record.address, port: record.port,
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

    /// The agent's PID and start time (a PID alone may be reused).
    public func guestIncarnation(instanceID: String) async -> String? {
        guard let record = readRecord(instanceID), let pid = record.livePID(commandMarker: instanceID) else { return nil }
        return "\(pid)@\(record.startedAt.timeIntervalSince1970)"
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
            try guest.prepareDataDirectory(request.datastore, preparedFolder)
            let runtime = Self.runtimeDirectory(of: request.instanceID)
            var user: InstanceUser?
            if Self.isolatesInstances {
                user = try withUsersLock {
                    // A folder keeps the user it was given first (nothing in it, which its tenant may edit, decides).
                    let given = InstanceUser.owning(folder.path)
                    return try giveFolders(folder, runtime, to: given ?? InstanceUser.ensure(InstanceUser.name(forGroup: request.isolationGroup)))
                }
            } else {
                try makeRuntimeFolder(runtime, owner: nil)
            }
            let record = ServerRecord(
                serverID: "process-\(request.instanceID)", address: request.address, port: request.port,
                datastore: request.datastore, datastoreVersion: request.datastoreVersion,
                pid: try startGuest(request, in: folder, runtime: runtime, as: user), startedAt: Date())
            try writePrivateFile(try JSONEncoder().encode(record), to: folder.appendingPathComponent("server.json"))
            return record.server
        }
    }

    /// Hands the instance's folder and runtime folder to its user (mode 700: nobody else enters). A folder of an
    /// earlier owner (an instance made before isolation) is handed over whole, links not followed.
    private func giveFolders(_ folder: URL, _ runtime: URL, to user: InstanceUser) throws -> InstanceUser {
        if let owner = InstanceUser.owner(of: folder.path), owner.uid != user.uid {
            try CommandRunner.run("/bin/chown", ["-R", "--no-dereference", "\(user.uid):\(user.gid)", folder.path])
        }
        guard chmod(folder.path, 0o700) == 0, chown(folder.path, user.uid, user.gid) == 0 else {
            throw ComputeError("cannot hand \(folder.path) to \(user.name): \(String(cString: strerror(errno)))")
        }
        try makeRuntimeFolder(runtime, owner: user)
        return user
    }

    /// `/tmp/cellar-run/<id>` (sockets): the shared parent is root's and nobody else writes it, so no entry in it
    /// can be a tenant's link; the instance's own folder is its user's, mode 700.
    private func makeRuntimeFolder(_ runtime: URL, owner: InstanceUser?) throws {
        let parent = runtime.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        var info = stat()
        guard lstat(parent.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid() else {
            throw ComputeError("\(parent.path) is not a folder of this user: refusing to put sockets there")
        }
        _ = chmod(parent.path, 0o755)
        try FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard let owner else { return }
        guard lstat(runtime.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR,
            lchown(runtime.path, owner.uid, owner.gid) == 0, chmod(runtime.path, 0o700) == 0
        else {
            throw ComputeError("cannot hand \(runtime.path) to \(owner.name)")
        }
    }

    private func startGuest(_ request: ServerRequest, in folder: URL, runtime: URL, as user: InstanceUser?) throws -> Int32 {
        // The guest's own key reaches it through its folder (mode 600), never through the bus or its command line.
        let keyFile = folder.appendingPathComponent("guest.key")
        try writePrivateFile(Data(guest.guestKey(request.instanceID).utf8), to: keyFile, owner: user.map { ($0.uid, $0.gid) })
        var command = [
            guest.executable, "guestagent", "--instance-id", request.instanceID, "--directory", folder.path,
            "--runtime-directory", runtime.path, "--key-file", keyFile.path,
            "--address", request.address, "--port", "\(request.port)", "--datastore", request.datastore,
            "--heartbeat-interval", "\(guest.heartbeatInterval)",
        ]
        // The guest becomes the instance's user before anything of it runs: setpriv sets the ids and drops every
        // supplementary group, then executes the guest in the same process (so the PID is the guest's).
        if let user { command = ["/usr/bin/setpriv", "--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--"] + command }
        let environment = ["CELLAR_AMQP_URL": try guest.brokerURL(request.instanceID), "HOME": folder.path, "TMPDIR": runtime.path]
        let pid = try spawn(
            command[0], Array(command.dropFirst()), environment: environment,
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
        let user = Self.isolatesInstances ? InstanceUser.owning(folder.path) : nil
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
        if let user { try withUsersLock { removeIfUnused(user) } }
    }

    /// Removes an instance's OS user once no instance folder belongs to it (a cluster's members share one).
    private func removeIfUnused(_ user: InstanceUser) {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        guard !folders.contains(where: { InstanceUser.owner(of: root.appendingPathComponent($0).path)?.uid == user.uid }) else { return }
        user.remove()
    }

    /// Runs `body` holding the lock under which OS users are created, given folders and removed (across processes),
    /// so a member being added never loses its user to a member of the same cluster being released.
    private func withUsersLock<T>(_ body: () throws -> T) throws -> T {
        try withFileLock(root.appendingPathComponent(".users.lock"), what: "the OS users", body)
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
        guard let data = FileManager.default.contents(atPath: directory(of: instanceID).appendingPathComponent("server.json").path) else {
            return nil
        }
        return try? JSONDecoder().decode(ServerRecord.self, from: data)
    }

    /// Runs `body` holding an exclusive `flock` on the instance's lock file (across processes).
    func withLock<T>(_ instanceID: String, _ body: () throws -> T) throws -> T {
        let folder = directory(of: instanceID)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return try withFileLock(folder.appendingPathComponent(".lock"), what: "instance \(instanceID)", body)
    }

    /// Runs `body` holding an exclusive `flock` on `file` (made when missing, never through a link).
    private func withFileLock<T>(_ file: URL, what: String, _ body: () throws -> T) throws -> T {
        let fd = open(file.path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ComputeError("cannot open the lock of \(what): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ComputeError("cannot lock \(what): \(String(cString: strerror(errno)))") }
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
