import Bus
import Foundation
import LocalServers
import Logging
import PostgresNIO
import Secrets

/// Manages one real PostgreSQL server beside the guest: initdb, configuration, start and stop as the
/// unprivileged OS user, databases, users, grants. Every operation is idempotent, so a repeated RPC (after a
/// task manager crash, a redelivery) finds the work done and succeeds again.
actor PostgreSQLManager {
    /// The superuser the guest itself uses, over the Unix socket only (pg_hba refuses it over TCP).
    static let adminUser = "os_admin"
    /// Roles and databases that are the guest's, never the user's.
    static let internalRoles: Set<String> = ["os_admin", "postgres", "root"]
    static let internalDatabases: Set<String> = ["postgres", "template0", "template1"]

    let paths: PostgreSQLPaths
    let address: String
    let port: Int
    let osUser: String?
    let logger: Logger
    var state: GuestState
    /// The data directory's size and when it was measured: walking the tree is the heartbeat's dearest part.
    private var measuredSize: (bytes: Int64, at: ContinuousClock.Instant)?

    init(instanceDirectory: URL, runtimeDirectory: URL, address: String, port: Int, osUser: String?, logger: Logger) {
        paths = PostgreSQLPaths(instanceDirectory: instanceDirectory, runtimeDirectory: runtimeDirectory)
        self.address = address
        self.port = port
        self.osUser = osUser
        self.logger = logger
        state = GuestState.load(from: paths.guestState)
    }

    // MARK: - Server lifecycle

    /// Initializes (once), configures, starts, then creates the databases and users; safe to repeat.
    func prepare(_ request: PrepareRequest) async throws {
        try Self.checkNames(databases: request.databases.map(\.name), users: request.users)
        for database in request.databases { try Self.checkSettings(database) }
        try await onDedicatedThread { [self] in try initializeIfNeeded() }
        state.memoryMB = request.memoryMB
        state.volumeSizeGB = request.volumeSizeGB
        state.overrides = request.overrides ?? [:]
        try writeConfiguration()
        try await startServer()
        try await withAdmin { connection in
            // PUBLIC may not connect anywhere by default: access comes from explicit grants only.
            try await connection.query(PostgresQuery(unsafeSQL: "REVOKE ALL ON DATABASE postgres FROM PUBLIC"), logger: self.logger)
        }
        try await createDatabases(request.databases)
        try await createUsers(request.users)
        state.prepared = true
        state.stoppedOnPurpose = false
        try state.save(to: paths.guestState)
    }

    /// At the guest's start: a prepared datastore that was not stopped on purpose runs again.
    func startIfPrepared() async {
        guard state.prepared, !state.stoppedOnPurpose else { return }
        do { try await startServer() } catch {
            logger.error("could not start PostgreSQL", metadata: ["error": "\(error)"])
        }
    }

    /// Restarts the server (fast shutdown), with new memory settings when given.
    func restart(memoryMB: Int?) async throws {
        try requirePrepared()
        if let memoryMB { state.memoryMB = memoryMB }
        try writeConfiguration()
        state.stoppedOnPurpose = false
        try state.save(to: paths.guestState)
        let binaries = try PostgresBinaries.locate()
        if try await isServerRunning() {
            try await onDedicatedThread { [self] in
                try CommandRunner.run(binaries.path("pg_ctl"), ["-D", paths.data.path, "-m", "fast", "-w", "-s", "-t", "60", "stop"], asUser: osUser)
            }
        }
        try await startServer()
    }

    /// Stops the server (fast shutdown); it stays stopped until `restart` or `prepare`.
    func stop() async throws {
        state.stoppedOnPurpose = true
        try? state.save(to: paths.guestState)
        guard try await isServerRunning() else { return }
        let binaries = try PostgresBinaries.locate()
        try await onDedicatedThread { [self] in
            try CommandRunner.run(binaries.path("pg_ctl"), ["-D", paths.data.path, "-m", "fast", "-w", "-s", "-t", "60", "stop"], asUser: osUser)
        }
    }

    /// Records the volume size; the heartbeat makes the server read-only when the data outgrows it.
    func resizeVolume(_ sizeGB: Int) async throws {
        guard sizeGB > 0 else { throw RemoteFailure(type: "InvalidVolumeSize", message: "the volume size must be positive, not \(sizeGB)") }
        state.volumeSizeGB = sizeGB
        try state.save(to: paths.guestState)
        try await enforceVolumeLimit(usedBytes: dataDirectorySize())
    }

    /// The datastore's status for a heartbeat or `get_status`; enforces the volume limit on the way.
    func status() async -> GuestStatus {
        let used = dataDirectorySize()
        guard state.prepared else {
            return GuestStatus(status: "building", serverVersion: nil, volumeUsedBytes: used, volumeSizeGB: state.volumeSizeGB)
        }
        guard (try? await isServerRunning()) == true else {
            return GuestStatus(status: state.stoppedOnPurpose ? "shutdown" : "crashed", serverVersion: nil,
                               volumeUsedBytes: used, volumeSizeGB: state.volumeSizeGB)
        }
        do {
            let version = try await withAdmin { connection in
                var version = ""
                for try await value in try await connection.query("SELECT current_setting('server_version')", logger: self.logger).decode(String.self) {
                    version = value
                }
                return version
            }
            try? await enforceVolumeLimit(usedBytes: used)
            return GuestStatus(status: "healthy", serverVersion: version, volumeUsedBytes: used, volumeSizeGB: state.volumeSizeGB)
        } catch {
            return GuestStatus(status: "blocked", serverVersion: nil, volumeUsedBytes: used, volumeSizeGB: state.volumeSizeGB)
        }
    }

    // MARK: - Databases

    func createDatabases(_ databases: [GuestDatabase]) async throws {
        try Self.checkNames(databases: databases.map(\.name), users: [])
        for database in databases { try Self.checkSettings(database) }
        try await withAdmin { connection in
            for database in databases {
                if try await self.exists("SELECT 1 FROM pg_database WHERE datname = \(database.name)", on: connection) { continue }
                var sql = "CREATE DATABASE \(SQLText.identifier(database.name)) TEMPLATE template0 ENCODING \(SQLText.literal(database.characterSet ?? "UTF8"))"
                if let collate = database.collate { sql += " LC_COLLATE \(SQLText.literal(collate)) LC_CTYPE \(SQLText.literal(collate))" }
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger)
                } catch let error as PSQLError {
                    throw RemoteFailure(type: "InvalidDatabaseSettings",
                                        message: "database \(database.name) could not be created: \(error.serverInfo?[.message] ?? "\(error)")")
                }
                try await connection.query(PostgresQuery(unsafeSQL: "REVOKE ALL ON DATABASE \(SQLText.identifier(database.name)) FROM PUBLIC"), logger: self.logger)
            }
        }
    }

    func deleteDatabase(_ name: String) async throws {
        try Self.checkNames(databases: [name], users: [])
        try await withAdmin { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(SQLText.identifier(name)) WITH (FORCE)"), logger: self.logger)
        }
    }

    func listDatabases() async throws -> [GuestDatabase] {
        try await withAdmin { connection in
            var databases: [GuestDatabase] = []
            let rows = try await connection.query(
                "SELECT datname, pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE NOT datistemplate ORDER BY datname",
                logger: self.logger)
            for try await (name, encoding, collate) in rows.decode((String, String, String).self)
                where !Self.internalDatabases.contains(name) {
                databases.append(GuestDatabase(name: name, characterSet: encoding, collate: collate))
            }
            return databases
        }
    }

    // MARK: - Users

    func createUsers(_ users: [GuestUser]) async throws {
        try Self.checkNames(databases: users.flatMap(\.databases), users: users)
        try await withAdmin { connection in
            for user in users {
                let role = SQLText.identifier(user.name)
                let exists = try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(user.name)", on: connection)
                guard let password = user.password, !password.isEmpty else {
                    // A repeated prepare after the password was handed over once: the role is there already.
                    if exists { continue }
                    throw RemoteFailure(type: "InvalidPassword", message: "user \(user.name) needs a password")
                }
                let verb = exists ? "ALTER" : "CREATE"
                try await connection.query(PostgresQuery(unsafeSQL: "\(verb) ROLE \(role) LOGIN PASSWORD \(SQLText.literal(password))"), logger: self.logger)
            }
        }
        for user in users { try await grant(user: user.name, databases: user.databases) }
    }

    func deleteUser(_ name: String) async throws {
        try Self.checkNames(databases: [], users: [GuestUser(name: name, password: nil)])
        let databases = try await listDatabases().map(\.name) + ["postgres"]
        for database in databases {
            try await withAdmin(database: database) { connection in
                guard try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(name)", on: connection) else { return }
                try await connection.query(PostgresQuery(unsafeSQL: "REASSIGN OWNED BY \(SQLText.identifier(name)) TO \(Self.adminUser)"), logger: self.logger)
                try await connection.query(PostgresQuery(unsafeSQL: "DROP OWNED BY \(SQLText.identifier(name))"), logger: self.logger)
            }
        }
        try await withAdmin { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP ROLE IF EXISTS \(SQLText.identifier(name))"), logger: self.logger)
        }
    }

    /// Users with the databases they were granted explicitly (PUBLIC grants and ownership do not count).
    func listUsers() async throws -> [GuestUser] {
        try await withAdmin { connection in
            let rows = try await connection.query("""
                SELECT r.rolname, coalesce(array_agg(d.datname ORDER BY d.datname) FILTER (WHERE d.datname IS NOT NULL), '{}')
                FROM pg_roles r
                LEFT JOIN LATERAL (
                    SELECT db.datname FROM pg_database db, aclexplode(db.datacl) acl
                    WHERE acl.grantee = r.oid AND acl.privilege_type = 'CONNECT' AND NOT db.datistemplate
                ) d ON true
                WHERE r.rolcanlogin AND NOT r.rolsuper GROUP BY r.rolname ORDER BY r.rolname
                """, logger: self.logger)
            var users: [GuestUser] = []
            for try await (name, databases) in rows.decode((String, [String]).self) where !Self.internalRoles.contains(name) {
                users.append(GuestUser(name: name, password: nil, databases: Array(Set(databases)).sorted()))
            }
            return users
        }
    }

    func grant(user: String, databases: [String]) async throws {
        try Self.checkNames(databases: databases, users: [GuestUser(name: user, password: nil)])
        for database in databases {
            try await withAdmin { connection in
                guard try await self.exists("SELECT 1 FROM pg_database WHERE datname = \(database)", on: connection) else {
                    throw RemoteFailure(type: "InvalidDatabase", message: "database \(database) does not exist")
                }
                try await connection.query(PostgresQuery(unsafeSQL: "GRANT CONNECT, TEMPORARY, CREATE ON DATABASE \(SQLText.identifier(database)) TO \(SQLText.identifier(user))"), logger: self.logger)
            }
            try await withAdmin(database: database) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "GRANT USAGE, CREATE ON SCHEMA public TO \(SQLText.identifier(user))"), logger: self.logger)
            }
        }
    }

    /// Takes the grants away and ends the user's sessions on those databases, so access stops at once.
    func revoke(user: String, databases: [String]) async throws {
        try Self.checkNames(databases: databases, users: [GuestUser(name: user, password: nil)])
        for database in databases {
            try await withAdmin { connection in
                guard try await self.exists("SELECT 1 FROM pg_database WHERE datname = \(database)", on: connection) else { return }
                try await connection.query(PostgresQuery(unsafeSQL: "REVOKE ALL ON DATABASE \(SQLText.identifier(database)) FROM \(SQLText.identifier(user))"), logger: self.logger)
                try await connection.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = \(user) AND datname = \(database)", logger: self.logger)
            }
        }
    }

    func changePasswords(_ users: [GuestUser]) async throws {
        try Self.checkNames(databases: [], users: users)
        try await withAdmin { connection in
            for user in users {
                guard let password = user.password, !password.isEmpty else {
                    throw RemoteFailure(type: "InvalidPassword", message: "user \(user.name) needs a password")
                }
                guard try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(user.name)", on: connection) else {
                    throw RemoteFailure(type: "InvalidUser", message: "user \(user.name) does not exist")
                }
                try await connection.query(PostgresQuery(unsafeSQL: "ALTER ROLE \(SQLText.identifier(user.name)) PASSWORD \(SQLText.literal(password))"), logger: self.logger)
            }
        }
    }

    /// Renames a user (SCRAM passwords survive a rename; grants follow the role). Done already: success.
    func renameUser(_ name: String, to newName: String) async throws {
        try Self.checkNames(databases: [], users: [GuestUser(name: name, password: nil), GuestUser(name: newName, password: nil)])
        try await withAdmin { connection in
            if try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(newName)", on: connection),
               !(try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(name)", on: connection)) { return }
            guard try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(name)", on: connection) else {
                throw RemoteFailure(type: "InvalidUser", message: "user \(name) does not exist")
            }
            try await connection.query(PostgresQuery(unsafeSQL: "ALTER ROLE \(SQLText.identifier(name)) RENAME TO \(SQLText.identifier(newName))"), logger: self.logger)
        }
    }

    /// Creates (or resets) the `root` superuser; returns its password.
    func enableRoot(password: String?) async throws -> String {
        let secret = password ?? RandomPassword.make()
        try await withAdmin { connection in
            let verb = try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = 'root'", on: connection) ? "ALTER" : "CREATE"
            try await connection.query(PostgresQuery(unsafeSQL: "\(verb) ROLE root SUPERUSER LOGIN PASSWORD \(SQLText.literal(secret))"), logger: self.logger)
        }
        return secret
    }

    /// Takes root's login away and ends its sessions (the role stays, so enabling again is an ALTER).
    func disableRoot() async throws {
        try await withAdmin { connection in
            guard try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = 'root'", on: connection) else { return }
            try await connection.query(PostgresQuery(unsafeSQL: "ALTER ROLE root NOLOGIN"), logger: self.logger)
            try await connection.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'root'", logger: self.logger)
        }
    }

    // MARK: - Helpers

    private func requirePrepared() throws {
        guard state.prepared else { throw RemoteFailure(type: "NotPrepared", message: "the datastore has not been prepared yet") }
    }

    private nonisolated func initializeIfNeeded() throws {
        let manager = FileManager.default
        try manager.createDirectory(at: paths.logDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try giveToDatabaseUser(paths.logDirectory)
        if manager.fileExists(atPath: paths.initialized.path) { return }
        // An initdb that was interrupted leaves a half-made directory: start it over.
        try? manager.removeItem(at: paths.data)
        try manager.createDirectory(at: paths.data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try giveToDatabaseUser(paths.data)
        let binaries = try PostgresBinaries.locate()
        try CommandRunner.run(binaries.path("initdb"), [
            "-D", paths.data.path, "-U", Self.adminUser, "--auth-local=trust", "--auth-host=scram-sha-256",
            "-E", "UTF8", "--locale=C.UTF-8",
        ], asUser: osUser)
        let conf = paths.data.appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: conf)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n# Cellar's settings (written by the guest agent)\ninclude 'cellar.conf'\n".utf8))
        try handle.close()
        try Data().write(to: paths.initialized)
    }

    /// `cellar.conf` (address, port, socket, memory) and `pg_hba.conf` (passwords over TCP; the guest's own
    /// superuser only over the socket).
    func writeConfiguration() throws {
        let sharedBuffersMB = max(32, state.memoryMB / 4)
        let settings = """
            listen_addresses = '\(address)'
            port = \(port)
            unix_socket_directories = '\(paths.socketDirectory.path)'
            unix_socket_permissions = 0700
            password_encryption = 'scram-sha-256'
            shared_buffers = '\(sharedBuffersMB)MB'
            effective_cache_size = '\(max(64, state.memoryMB * 3 / 4))MB'
            max_connections = 100
            log_line_prefix = '%m [%p] %u@%d '
            cellar.generation = '\(state.configurationGeneration)'

            """ + Self.overridesSection(state.overrides)
        let hba = """
            # Written by the Cellar guest agent.
            local   all   \(Self.adminUser)                trust
            local   all   all                     scram-sha-256
            host    all   \(Self.adminUser)   0.0.0.0/0    reject
            host    all   \(Self.adminUser)   ::/0         reject

            """ + Self.clientRules(allowedCidrs: state.allowedCidrs)
        try Data(settings.utf8).write(to: paths.cellarConf)
        try Data(hba.utf8).write(to: paths.hbaConf)
        try giveToDatabaseUser(paths.cellarConf)
        try giveToDatabaseUser(paths.hbaConf)
    }

    private func startServer() async throws {
        if try await isServerRunning() { return }
        try FileManager.default.createDirectory(at: paths.socketDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try giveToDatabaseUser(paths.socketDirectory)
        let binaries = try PostgresBinaries.locate()
        do {
            try await onDedicatedThread { [self] in
                try CommandRunner.run(binaries.path("pg_ctl"), ["-D", paths.data.path, "-l", paths.serverLog.path, "-w", "-s", "-t", "60", "start"], asUser: osUser)
            }
        } catch {
            // pg_ctl only says "examine the log output": the log's last lines are what an operator needs.
            let log = (try? String(contentsOf: paths.serverLog, encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(3).joined(separator: " | ")
            throw RemoteFailure(type: "DatastoreStartFailed", message: "PostgreSQL did not start: \(tail)")
        }
    }

    func isServerRunning() async throws -> Bool {
        guard let text = try? String(contentsOf: paths.data.appendingPathComponent("postmaster.pid"), encoding: .utf8),
              let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }) else { return false }
        return ProcessStatus.isAlive(pid: pid)
    }

    private func enforceVolumeLimit(usedBytes: Int64) async throws {
        guard state.prepared, state.volumeSizeGB > 0 else { return }
        let full = usedBytes >= Int64(state.volumeSizeGB) * 1_073_741_824
        guard full != state.readOnlyForVolume else { return }
        try await withAdmin { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "ALTER SYSTEM SET default_transaction_read_only = \(full ? "on" : "off")"), logger: self.logger)
            try await connection.query("SELECT pg_reload_conf()", logger: self.logger)
        }
        state.readOnlyForVolume = full
        try state.save(to: paths.guestState)
        logger.warning(full ? "volume full: writes refused" : "volume has room again: writes allowed",
                       metadata: ["used_bytes": "\(usedBytes)", "size_gb": "\(state.volumeSizeGB)"])
    }

    private func dataDirectorySize() -> Int64 {
        if let measuredSize, ContinuousClock.now - measuredSize.at < .seconds(10) { return measuredSize.bytes }
        let bytes = walkDataDirectory()
        measuredSize = (bytes, ContinuousClock.now)
        return bytes
    }

    private func walkDataDirectory() -> Int64 {
        guard let files = FileManager.default.enumerator(at: paths.data, includingPropertiesForKeys: [.fileSizeKey]) else { return 0 }
        var total: Int64 = 0
        for case let file as URL in files {
            total += Int64((try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
        }
        return total
    }

    private nonisolated func giveToDatabaseUser(_ url: URL) throws {
        guard let osUser else { return }
        try FileManager.default.setAttributes([.ownerAccountName: osUser, .groupOwnerAccountName: osUser], ofItemAtPath: url.path)
    }

    private func exists(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> Bool {
        for try await _ in try await connection.query(query, logger: logger) { return true }
        return false
    }

    /// Runs `body` on a connection as the guest's superuser over the Unix socket.
    func withAdmin<T: Sendable>(database: String = "postgres", _ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let configuration = PostgresConnection.Configuration(
            unixSocketPath: paths.socketFile(port: port), username: Self.adminUser, password: nil, database: database)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private static func checkNames(databases: [String], users: [GuestUser]) throws {
        for name in databases where !SQLText.isValidName(name) || internalDatabases.contains(name) {
            throw RemoteFailure(type: "InvalidDatabaseName", message: "'\(name)' is not a valid database name")
        }
        for user in users where !SQLText.isValidName(user.name) || internalRoles.contains(user.name) {
            throw RemoteFailure(type: "InvalidUserName", message: "'\(user.name)' is not a valid user name")
        }
    }

    private static func checkSettings(_ database: GuestDatabase) throws {
        for value in [database.characterSet, database.collate].compactMap({ $0 }) where !SQLText.isValidSetting(value) {
            throw RemoteFailure(type: "InvalidDatabaseSettings", message: "'\(value)' is not a valid character set or collation (database \(database.name))")
        }
    }


}
