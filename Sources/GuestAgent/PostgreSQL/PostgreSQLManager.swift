import Bus
import Foundation
import GuestProtocol
import Lifecycle
import LocalServers
import Logging
import PostgresNIO
import Secrets

/// Manages one real PostgreSQL server beside the guest: initdb, start and stop as the unprivileged OS user,
/// status and volume limit (here); databases, users, grants and root (`+Administration`); configuration groups
/// and access rules (`+Configuration`), whose files `PostgreSQLConfigurationFiles` renders.
actor PostgreSQLManager: DatastoreManagerType, ManagedServer {
    static let rules: any DatastoreDescriptor = PostgreSQLDescriptor()
    /// The superuser the guest itself uses, over the Unix socket only (pg_hba refuses it over TCP).
    static let adminUser = "os_admin"
    /// Roles and databases that are the guest's, never the user's.
    static let internalRoles: Set<String> = ["os_admin", "postgres", "root"]

    let paths: PostgreSQLPaths
    nonisolated var dataDirectory: URL { paths.data }
    let address: String
    let port: Int
    let logger: Logger
    var state: GuestState
    var dataSize: CachedDirectorySize
    var restarting = false
    /// An active-passive cluster's replication password, opened from its sealed form for the call at hand.
    var replicationPassword: String?
    /// The connection the balancer's checks are answered on (`inRecovery`).
    var checkConnection: PostgresConnection?
    let serverName = "PostgreSQL"
    var guestStateFile: URL { paths.guestState }

    init(instanceDirectory: URL, runtimeDirectory: URL, address: String, port: Int, logger: Logger) {
        paths = PostgreSQLPaths(instanceDirectory: instanceDirectory, runtimeDirectory: runtimeDirectory)
        self.address = address
        self.port = port
        self.logger = logger
        state = GuestState.load(from: paths.guestState)
        dataSize = CachedDirectorySize(directory: paths.data)
    }

    // MARK: - Server lifecycle

    /// Initializes (once), configures, starts, then creates the databases and users; safe to repeat.
    /// A cluster member or a Trove replica also takes its replication settings: a primary serves the replication
    /// account, a replica copies its primary instead of initializing (`+Replication`).
    func prepare(_ request: PrepareRequest) async throws {
        try Self.checkNames(databases: request.databases.map(\.name), users: request.users.map(\.name))
        try Self.checkSettings(request.databases)
        state.memoryMB = request.memoryMB
        state.volumeSizeGB = request.volumeSizeGB
        state.overrides = request.overrides ?? [:]
        var replication: ReplicationSettings?
        if let cluster = request.cluster {
            guard let settings = cluster.replication else {
                throw RemoteFailure(type: "NotSupported", message: "PostgreSQL clusters are active-passive: a member needs replication settings")
            }
            state.cluster = cluster
            state.synchronousStandbys = settings.synchronous ? settings.standbySlots : []
            if let primary = settings.primaryAddress { return try await prepareReplica(of: primary, slotName: settings.slotName) }
            replication = settings
        }
        try await onDedicatedThread { [self] in try initializeIfNeeded() }
        try writeConfiguration()
        try await startServer()
        try await withAdmin { connection in
            // PUBLIC may not connect anywhere by default: access comes from explicit grants only.
            try await connection.query(PostgresQuery(unsafeSQL: "REVOKE ALL ON DATABASE postgres FROM PUBLIC"), logger: self.logger)
        }
        if replication != nil { try await ensureReplicationAccount() }
        try await createDatabases(request.databases)
        try await createUsers(request.users)
        try markPrepared()
    }

    /// At the guest's start: a prepared server that was not stopped on purpose runs again, except an
    /// active-passive member that was the primary (or is fenced): whether it still is, the control plane says.
    func startIfPrepared() async {
        guard state.prepared, !state.stoppedOnPurpose else { return }
        if waitsForTheControlPlane {
            logger.warning("this member was the primary or is fenced: its server starts only when the control plane says so")
            return
        }
        do { try await startServer() } catch {
            logger.error("could not start \(serverName)", metadata: ["error": "\(error)"])
        }
    }

    /// Stops the server (fast shutdown) if it runs.
    func stopServer() async throws { try await stopServer(mode: "fast", waitingUpTo: 60) }

    /// Stops the server if it runs, in `pg_ctl`'s `mode` (`fast`: sessions ended, WAL handed to the replicas;
    /// `immediate`: at once, recovery at the next start), waiting up to `seconds` for it.
    func stopServer(mode: String, waitingUpTo seconds: Int) async throws {
        guard try await isServerRunning() else { return }
        let binaries = try PostgresBinaries.locate()
        try await onDedicatedThread { [self] in
            try CommandRunner.run(binaries.path("pg_ctl"), ["-D", paths.data.path, "-m", mode, "-w", "-s", "-t", "\(seconds)", "stop"])
        }
    }

    func writeServerConfiguration() throws { try writeConfiguration() }

    /// The datastore's condition for a heartbeat or `get_status`; enforces the volume limit on the way.
    func report(instanceID: String, at time: Date) async -> GuestReport {
        let used = dataSize.bytes()
        let replication = state.cluster?.replication == nil || !state.prepared ? nil : await replicationStatus()
        func report(_ condition: DatastoreCondition, version: String? = nil) -> GuestReport {
            GuestReport(
                instanceID: instanceID, condition: condition, role: replication?.role ?? .primary, volumeUsedBytes: used,
                volumeSizeGB: state.volumeSizeGB, serverVersion: version, sentAt: time, replication: replication)
        }
        guard state.prepared else { return report(.building) }
        guard (try? await isServerRunning()) == true else { return report(state.stoppedOnPurpose || state.fenced ? .shutdown : .crashed) }
        do {
            let (version, activity) = try await withAdmin { connection in
                var answer = ("", GuestReport.Activity(connections: 0, transactions: 0))
                for try await (version, connections, transactions) in try await connection.query(
                    """
                    SELECT current_setting('server_version'),
                           (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend'),
                           (SELECT coalesce(sum(xact_commit + xact_rollback), 0)::int8 FROM pg_stat_database)
                    """, logger: self.logger
                ).decode((String, Int, Int64).self) {
                    answer = (version, GuestReport.Activity(connections: connections, transactions: transactions))
                }
                return answer
            }
            try? await enforceVolumeLimit(usedBytes: used)
            var healthy = report(.healthy, version: version)
            healthy.activity = activity
            return healthy
        } catch {
            return report(.blocked)
        }
    }

    // MARK: - Helpers

    /// A data directory of its own, copied from the host's prepared one (`PreparedDataDirectory`: one `initdb` per
    /// server version and host), else initialized here; Cellar's settings included either way.
    private nonisolated func initializeIfNeeded() throws {
        let manager = FileManager.default
        try manager.createDirectory(at: paths.logDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if manager.fileExists(atPath: paths.initialized.path) { return }
        // An interrupted copy leaves a half-made directory: start it over.
        try emptyDataDirectory()
        if let template = try Self.preparedDataDirectory(beside: paths.instanceDirectory).existing {
            try PreparedDataDirectory(beside: paths.instanceDirectory, name: template.lastPathComponent).copy(template, into: paths.data)
        } else {
            try Self.initialize(paths.data, osUser: nil)
        }
        try Data().write(to: paths.initialized, options: .atomic)
    }

    /// The host's prepared directory of this server version.
    static func preparedDataDirectory(beside instanceDirectory: URL) throws -> PreparedDataDirectory {
        let binaries = try PostgresBinaries.locate()
        return PreparedDataDirectory(
            beside: instanceDirectory,
            name: "postgresql-\(URL(fileURLWithPath: binaries.directory).deletingLastPathComponent().lastPathComponent)")
    }

    static func prepareDataDirectory(in folder: URL, osUser: String?) throws {
        let binaries = try PostgresBinaries.locate()
        let name = "postgresql-\(URL(fileURLWithPath: binaries.directory).deletingLastPathComponent().lastPathComponent)"
        try PreparedDataDirectory(in: folder, name: name).ensure(osUser: osUser) { try initialize($0, osUser: osUser) }
    }

    /// `initdb` into `data` (as `osUser` when given), its superuser reached through the socket only, then the line
    /// that includes Cellar's settings. pg_hba.conf is the guest's before the server first starts.
    private static func initialize(_ data: URL, osUser: String?) throws {
        let binaries = try PostgresBinaries.locate()
        try CommandRunner.run(
            binaries.path("initdb"),
            [
                "-D", data.path, "-U", adminUser, "--auth-local=peer", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--locale=C.UTF-8",
            ], asUser: osUser)
        let conf = data.appendingPathComponent("postgresql.conf")
        let text = try String(contentsOf: conf, encoding: .utf8) + "\n# Cellar's settings (written by the guest agent)\ninclude 'cellar.conf'\n"
        try Data(text.utf8).write(to: conf, options: .atomic)
    }

    /// `cellar.conf` (address, port, socket, memory, the group's values) and `pg_hba.conf` (passwords over TCP
    /// from the allowed networks; the guest's own superuser only over the socket), as `PostgreSQLConfigurationFiles`
    /// renders them.
    func writeConfiguration() throws {
        let files = PostgreSQLConfigurationFiles(
            address: address, port: port, socketDirectory: paths.socketDirectory.path, memoryMB: state.memoryMB,
            generation: state.configurationGeneration, overrides: state.overrides, allowedCidrs: state.allowedCidrs,
            adminUser: Self.adminUser,
            replication: state.cluster.flatMap { cluster in
                cluster.replication.map { _ in
                    PostgreSQLConfigurationFiles.Replication(peerAddresses: cluster.peerAddresses, synchronousStandbys: state.synchronousStandbys)
                }
            })
        // Fresh files renamed into place: a link planted in the data directory is replaced, never written through.
        try Data(files.settings.utf8).write(to: paths.cellarConf, options: .atomic)
        try Data(files.hostRules.utf8).write(to: paths.hbaConf, options: .atomic)
        try Data(files.identities(serverUser: Self.processUser).utf8).write(to: paths.identConf, options: .atomic)
    }

    /// The OS user this guest (and so its server) runs as: the only one `peer` lets in as the guest's superuser.
    static let processUser = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "root"

    func startServer() async throws {
        if try await isServerRunning() { return }
        try FileManager.default.createDirectory(at: paths.socketDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let binaries = try PostgresBinaries.locate()
        do {
            try await onDedicatedThread { [self] in
                try CommandRunner.run(binaries.path("pg_ctl"), ["-D", paths.data.path, "-l", paths.serverLog.path, "-w", "-s", "-t", "60", "start"])
            }
        } catch {
            // pg_ctl only says "examine the log output": the log's last lines are what an operator needs.
            let log = (try? String(contentsOf: paths.serverLog, encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(3).joined(separator: " | ")
            throw RemoteFailure(type: "DatastoreStartFailed", message: "PostgreSQL did not start: \(tail)")
        }
    }

    func isServerRunning() async throws -> Bool { serverProcess() != nil }

    /// The postmaster's PID while it runs (from `postmaster.pid`).
    func serverProcess() -> Int32? {
        guard let text = try? String(contentsOf: paths.data.appendingPathComponent("postmaster.pid"), encoding: .utf8),
            let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }), ProcessStatus.isAlive(pid: pid)
        else { return nil }
        return pid
    }

    /// Read-only by default for every new transaction (the guest's own superuser still writes).
    func setReadOnly(_ full: Bool) async throws {
        try await withAdmin { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "ALTER SYSTEM SET default_transaction_read_only = \(full ? "on" : "off")"), logger: self.logger)
            try await connection.query("SELECT pg_reload_conf()", logger: self.logger)
        }
    }

    func exists(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> Bool {
        for try await _ in try await connection.query(query, logger: logger) { return true }
        return false
    }

    /// The guest's own superuser over the server's private socket (`peer`).
    func adminConfiguration(database: String = "postgres") -> PostgresConnection.Configuration {
        PostgresConnection.Configuration(unixSocketPath: paths.socketFile(port: port), username: Self.adminUser, password: nil, database: database)
    }

    /// Runs `body` on a connection as the guest's superuser over the Unix socket.
    func withAdmin<T: Sendable>(database: String = "postgres", _ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await PostgresConnection.connect(configuration: adminConfiguration(database: database), id: 1, logger: logger)
        do {
            // The guest's own changes (roles, databases, grants) never wait for a synchronous standby: one that is
            // not there yet (a cluster being built) would hold them forever.
            try await connection.query("SET synchronous_commit TO local", logger: logger)
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

}
