import Foundation
import Lifecycle
import LocalServers
import Logging
import Secrets

/// What a real PostgreSQL server of this machine offers: the settings users may put in configuration groups
/// (`pg_settings`: type, bounds, enumerated values, and `context = 'postmaster'` for restart-only ones), its
/// encodings and its collations. A throw-away server is initialized, asked, and removed: about a second and a
/// half, once per version.
public enum PostgreSQLCatalog: DatastoreCatalogReader {
    public static let managerName = PostgreSQLManager.managerName

    /// Settings the guest agent owns (addresses, sockets, files, commands run by the server, libraries loaded
    /// into it): a configuration group may not change them.
    public static let managedByCellar: Set<String> = [
        "listen_addresses", "port", "unix_socket_directories", "unix_socket_group", "unix_socket_permissions",
        "data_directory", "config_file", "hba_file", "ident_file", "external_pid_file", "include_dir",
        "shared_preload_libraries", "local_preload_libraries", "session_preload_libraries", "dynamic_library_path",
        "archive_command", "archive_library", "archive_cleanup_command", "restore_command", "recovery_end_command",
        "ssl", "ssl_cert_file", "ssl_key_file", "ssl_ca_file", "ssl_crl_file", "ssl_crl_dir", "ssl_passphrase_command",
        "ssl_passphrase_command_supports_reload", "krb_server_keyfile", "primary_conninfo", "primary_slot_name",
        "log_directory", "log_filename", "data_sync_retry", "event_source", "password_encryption",
        "default_transaction_read_only", "allow_system_table_mods", "ignore_system_indexes", "zero_damaged_pages",
        "ignore_checksum_failure", "ignore_invalid_pages", "jit_provider", "cluster_name", "unix_socket_group",
    ]

    /// Starts a private server (as `osUser` when given), reads its settings, encodings and collations, stops and
    /// removes it.
    public static func describe(osUser: String?, logger: Logger) throws -> DatastoreCatalog {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cellar-parameters-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = PostgresServer(
            directory: directory, port: try Loopback.freePort(), password: RandomPassword.make(),
            osUser: osUser, durable: false, databaseName: "postgres")
        try server.start(logger: logger)
        defer { try? server.stop() }
        let query = """
            SELECT json_agg(json_build_object('name', name, 'vartype', vartype, 'min', min_val, 'max', max_val,
                'enumvals', enumvals, 'context', context, 'unit', unit, 'description', short_desc) ORDER BY name)
            FROM pg_settings WHERE context <> 'internal'
            """
        func ask(_ sql: String) throws -> String {
            try CommandRunner.run(
                try PostgresBinaries.locate().path("psql"),
                [
                    "-h", "127.0.0.1", "-p", "\(server.port)", "-U", "postgres", "-d", "postgres", "-X", "-tAc", sql,
                ], environment: ["PGPASSWORD": server.password])
        }
        let rows = try JSONDecoder().decode([Setting].self, from: Data(try ask(query).utf8))
        let encodings = try ask("SELECT DISTINCT pg_encoding_to_char(e) FROM generate_series(0, 63) e WHERE pg_encoding_to_char(e) <> ''")
        let collations = try ask("SELECT DISTINCT collname FROM pg_collation WHERE collprovider IN ('c', 'd')")
        let lines = { (text: String) in text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        return DatastoreCatalog(
            parameters: rows.filter { !managedByCellar.contains($0.name) }.map(\.parameter),
            characterSets: CharacterSetCatalog(
                characterSets: lines(encodings),
                collations: Dictionary(lines(collations).map { ($0, "") }, uniquingKeysWith: { first, _ in first })))
    }

    /// `initdb` + `pg_ctl start -w` of a bare server, in seconds.
    public static func timeBareServerStart(osUser: String?, index: Int) throws -> Double {
        let binaries = try PostgresBinaries.locate()
        let folder = URL(fileURLWithPath: "/tmp/cellar-bench-\(getpid())-\(index)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if let osUser { try FileManager.default.setAttributes([.ownerAccountName: osUser], ofItemAtPath: folder.path) }
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data").path
        let started = ContinuousClock.now
        try CommandRunner.run(binaries.path("initdb"), ["-D", data, "-U", "os_admin", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        try CommandRunner.run(
            binaries.path("pg_ctl"),
            [
                "-D", data, "-l", "\(folder.path)/log", "-w", "-s",
                "-o", "-p \(5500 + index) -k \(folder.path) -c listen_addresses=''", "start",
            ])
        let elapsed = ContinuousClock.now - started
        try CommandRunner.run(binaries.path("pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-s", "stop"])
        return elapsed.seconds
    }

    /// One row of `pg_settings`.
    struct Setting: Decodable {
        var name: String
        var vartype: String
        var min: String?
        var max: String?
        var enumvals: [String]?
        var context: String
        var unit: String?
        var description: String?

        var parameter: ConfigurationParameter {
            let type: ConfigurationParameter.Kind =
                switch vartype {
                case "integer": .integer
                case "real": .float
                case "bool": .boolean
                default: .string
                }
            return ConfigurationParameter(
                name: name, type: type, min: min.flatMap(Double.init), max: max.flatMap(Double.init),
                allowedValues: enumvals ?? [], restartRequired: context == "postmaster", unit: unit,
                description: description ?? "")
        }
    }
}
