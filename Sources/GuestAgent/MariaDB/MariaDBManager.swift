import Bus
import Foundation
import GuestProtocol
import Lifecycle
import LocalServers
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Manages one real MariaDB server beside the guest: `mariadb-install-db` once, `mariadbd` started and stopped
/// as the unprivileged OS user on the instance's own address, status and volume limit (here); databases, users
/// (`name@host`), grants and root (`+Administration`); configuration groups (`+Configuration`), whose options
/// file `MariaDBOptionsFile` renders.
actor MariaDBManager: DatastoreManagerType, ManagedServer {
    static let rules: any DatastoreDescriptor = MariaDBDescriptor()
    /// Accounts that are the server's or the guest's own, never listed as the user's.
    static let internalUsers: Set<String> = ["root", "mariadb.sys", "mysql", "os_admin", "cellar", "PUBLIC"]

    let paths: MariaDBPaths
    nonisolated var dataDirectory: URL { paths.data }
    let address: String
    let port: Int
    let logger: Logger
    var state: GuestState
    var dataSize: CachedDirectorySize
    var restarting = false
    /// When a cluster member whose server died last tried to start it again, and whether it still does.
    var lastRejoin: ContinuousClock.Instant?
    var rejoining = false
    let serverName = "MariaDB"
    var guestStateFile: URL { paths.guestState }

    var client: MariaDBClient { MariaDBClient(socket: paths.socket.path) }

    init(instanceDirectory: URL, runtimeDirectory: URL, address: String, port: Int, logger: Logger) {
        paths = MariaDBPaths(instanceDirectory: instanceDirectory, runtimeDirectory: runtimeDirectory)
        self.address = address
        self.port = port
        self.logger = logger
        state = GuestState.load(from: paths.guestState)
        dataSize = CachedDirectorySize(directory: paths.data)
    }

    // MARK: - Server lifecycle

    func prepare(_ request: PrepareRequest) async throws {
        try Self.checkNames(databases: request.databases.map(\.name), users: request.users.map(\.name))
        state.memoryMB = request.memoryMB
        state.volumeSizeGB = request.volumeSizeGB
        state.overrides = request.overrides ?? [:]
        state.cluster = request.cluster
        if let cluster = request.cluster, !cluster.seed {
            try await joinGroup()  // the data, accounts included, come from a running member
            try markPrepared()
            return
        }
        try await onDedicatedThread { [self] in try installIfNeeded() }
        try writeOptions()
        // A seed starts the group only while it is not prepared: afterwards it rejoins like any member.
        try await startServer(seedingGroup: request.cluster != nil && !state.prepared)
        try await createDatabases(request.databases)
        try await createUsers(request.users)
        try markPrepared()
    }

    func writeServerConfiguration() throws { try writeOptions() }

    func report(instanceID: String, at time: Date) async -> GuestReport {
        let used = dataSize.bytes()
        func report(_ condition: DatastoreCondition, version: String? = nil) -> GuestReport {
            GuestReport(
                instanceID: instanceID, condition: condition, volumeUsedBytes: used, volumeSizeGB: state.volumeSizeGB,
                serverVersion: version, sentAt: time)
        }
        guard state.prepared else { return report(.building) }
        guard isServerRunning() else {
            if state.cluster != nil, !state.stoppedOnPurpose, !restarting { rejoinSoon() }
            return report(state.stoppedOnPurpose ? .shutdown : .crashed)
        }
        let client = self.client
        // The version, the client sessions (less this one) and every transaction ended since the server started.
        guard
            let row = try? await onDedicatedThread({
                try client.run(
                    """
                    SELECT VERSION(),
                           (SELECT CAST(VARIABLE_VALUE AS SIGNED) - 1 FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_CONNECTED'),
                           (SELECT CAST(SUM(VARIABLE_VALUE) AS UNSIGNED) FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('HANDLER_COMMIT', 'HANDLER_ROLLBACK'))
                    """
                ).first
            }), let version = row.first
        else { return report(.blocked) }
        try? await enforceVolumeLimit(usedBytes: used)
        let activity =
            row.count == 3
            ? Int(row[1]).flatMap { connections in
                Int64(row[2]).map { GuestReport.Activity(connections: max(connections, 0), transactions: $0) }
            } : nil
        guard state.cluster != nil else {
            var healthy = report(.healthy, version: version)
            healthy.activity = activity
            return healthy
        }
        // A member serves only while synced with the group's primary component.
        let group = (try? await groupStatus()) ?? GaleraStatus(values: [:])
        var member = report(group.isServing ? .healthy : .blocked, version: version)
        member.clusterFigures = group.figures
        member.activity = activity
        return member
    }

    // MARK: - Helpers

    /// Runs administrative SQL off the actor's thread (the client is a blocking child process).
    func admin<T: Sendable>(_ work: @escaping @Sendable (MariaDBClient) throws -> T) async throws -> T {
        let client = self.client
        return try await onDedicatedThread { try work(client) }
    }

    /// The options file as the current state renders it.
    var options: MariaDBOptionsFile {
        MariaDBOptionsFile(
            dataDirectory: paths.data.path, socket: paths.socket.path, pidFile: paths.pidFile.path, errorLog: paths.errorLog.path,
            address: address, port: port, memoryMB: state.memoryMB, overrides: state.overrides, cluster: state.cluster,
            transferUser: transferUser)
    }

    func writeOptions() throws {
        try Data(options.text.utf8).write(to: paths.optionsFile, options: .atomic)
    }

    private nonisolated func installIfNeeded() throws {
        let manager = FileManager.default
        try manager.createDirectory(at: paths.logDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if manager.fileExists(atPath: paths.initialized.path) { return }
        try emptyDataDirectory()  // an interrupted copy is started over
        let prepared = Self.preparedDataDirectory(beside: paths.instanceDirectory)
        if let template = prepared.existing {
            try prepared.copy(template, into: paths.data)
        } else {
            try MariaDBServer.install(dataDirectory: paths.data.path, osUser: nil)
        }
        try Data().write(to: paths.initialized, options: .atomic)
    }

    /// One mariadb-install-db per host and server build (the binary's time stamp names it), copied from then on.
    static func preparedDataDirectory(beside instanceDirectory: URL) -> PreparedDataDirectory {
        PreparedDataDirectory(beside: instanceDirectory, name: preparedName)
    }

    private static var preparedName: String {
        let built = (try? FileManager.default.attributesOfItem(atPath: "/usr/sbin/mariadbd")[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "mariadb-\(Int(built))"
    }

    static func prepareDataDirectory(in folder: URL, osUser: String?) throws {
        try PreparedDataDirectory(in: folder, name: preparedName).ensure(osUser: osUser) {
            try MariaDBServer.install(dataDirectory: $0.path, osUser: osUser)
        }
    }

    func startServer() async throws { try await startServer(seedingGroup: false) }

    /// Starts `mariadbd` unless it runs; `seedingGroup` starts a new Galera group (the first member of a cluster,
    /// or the member the whole group stopped last). A member joining copies its data first: it may take minutes.
    func startServer(seedingGroup: Bool) async throws {
        if isServerRunning() { return }
        try FileManager.default.createDirectory(at: paths.socketDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let seeding = seedingGroup || (state.cluster != nil && isSafeToSeed())
        let extra = seeding ? ["--wsrep-new-cluster"] : []
        let timeout: Duration = state.cluster == nil ? .seconds(60) : .seconds(170)
        let (paths, client) = (self.paths, self.client)
        let pid = try await onDedicatedThread {
            try MariaDBServer.start(
                optionsFile: paths.optionsFile.path, output: paths.errorLog.path, errorLog: paths.errorLog.path,
                client: client, osUser: nil, extraArguments: extra, timeout: timeout)
        }
        reapWhenExits(pid)
        try await onDedicatedThread { try MariaDBServer.ensureAdminAccount(client) }
    }

    func stopServer() async throws {
        guard let pid = serverPID() else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(60)
        while ProcessStatus.isAlive(pid: pid), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if ProcessStatus.isAlive(pid: pid) { kill(pid, SIGKILL) }
    }

    private func serverPID() -> Int32? {
        guard let text = try? String(contentsOf: paths.pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), ProcessStatus.isAlive(pid: pid)
        else { return nil }
        return pid
    }

    func isServerRunning() -> Bool { serverPID() != nil }

    /// `read_only` for every account without the privilege to ignore it (the guest's root keeps writing).
    func setReadOnly(_ full: Bool) async throws {
        try await admin { try $0.run("SET GLOBAL read_only = \(full ? "ON" : "OFF")") }
    }
}
