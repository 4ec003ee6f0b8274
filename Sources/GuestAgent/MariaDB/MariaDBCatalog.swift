import Bus
import Foundation
import Lifecycle
import LocalServers
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// What a real MariaDB server of this machine offers: its system variables for configuration groups
/// (`information_schema.SYSTEM_VARIABLES`: type, range, enumerated values, read-only ones only at a restart),
/// `SHOW CHARACTER SET` and `SHOW COLLATION`. A throw-away server is installed, asked and removed (about a second).
public enum MariaDBCatalog: DatastoreCatalogReader {
    public static let managerName = MariaDBManager.managerName

    /// Variables the guest agent owns (files, addresses, what it enforces): a configuration group may not set them.
    public static let managedByCellar: Set<String> = [
        "datadir", "socket", "pid_file", "log_error", "bind_address", "port", "basedir", "plugin_dir", "plugin_maturity",
        "general_log_file", "slow_query_log_file", "secure_file_priv", "init_file", "tmpdir", "character_sets_dir",
        "lc_messages_dir", "read_only", "skip_networking", "skip_name_resolve", "innodb_data_home_dir",
        "innodb_log_group_home_dir", "aria_log_dir_path", "log_bin_basename", "log_bin_index", "relay_log_basename",
        "relay_log_index", "relay_log_info_file", "ssl_ca", "ssl_capath", "ssl_cert", "ssl_key", "ssl_crl", "ssl_crlpath",
        "hostname", "server_id", "innodb_tmpdir", "slave_load_tmpdir", "ft_stopword_file",
    ]

    public static func describe(osUser: String?, logger: Logger) throws -> DatastoreCatalog {
        try withThrowAwayServer(osUser: osUser) { client in try describe(client) }
    }

    /// `mariadb-install-db` + `mariadbd` until it answers, of a bare server, in seconds.
    public static func timeBareServerStart(osUser: String?, index: Int) throws -> Double {
        let started = ContinuousClock.now
        return try withThrowAwayServer(osUser: osUser) { _ in (ContinuousClock.now - started).seconds }
    }

    /// Installs and starts a private server on 127.0.0.1 (as `osUser` when given), runs `body` with an admin
    /// client, then stops and removes it.
    static func withThrowAwayServer<T>(osUser: String?, _ body: (MariaDBClient) throws -> T) throws -> T {
        let directory = URL(fileURLWithPath: "/tmp/cellar-mariadb-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        if let osUser {
            try FileManager.default.setAttributes([.ownerAccountName: osUser, .groupOwnerAccountName: osUser], ofItemAtPath: directory.path)
        }
        let data = directory.appendingPathComponent("data").path
        try MariaDBServer.install(dataDirectory: data, osUser: osUser)
        let options = MariaDBOptionsFile(
            dataDirectory: data, socket: directory.appendingPathComponent("mysqld.sock").path,
            pidFile: directory.appendingPathComponent("mysqld.pid").path, errorLog: directory.appendingPathComponent("error.log").path,
            address: "127.0.0.1", port: try Loopback.freePort(), memoryMB: 128, overrides: [:])
        let optionsFile = directory.appendingPathComponent("my.cnf")
        try Data(options.text.utf8).write(to: optionsFile)
        let client = MariaDBClient(socket: options.socket)
        let pid = try MariaDBServer.start(
            optionsFile: optionsFile.path, output: directory.appendingPathComponent("server.out").path,
            errorLog: options.errorLog, client: client, osUser: osUser)
        defer {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }
        return try body(client)
    }

    /// The variables, character sets and collations a running server lists.
    static func describe(_ client: MariaDBClient) throws -> DatastoreCatalog {
        let variables = try client.run(
            """
            SELECT LOWER(VARIABLE_NAME), VARIABLE_TYPE, IFNULL(NUMERIC_MIN_VALUE, ''), IFNULL(NUMERIC_MAX_VALUE, ''),
                   IFNULL(ENUM_VALUE_LIST, ''), READ_ONLY, IFNULL(VARIABLE_COMMENT, '')
            FROM information_schema.SYSTEM_VARIABLES ORDER BY VARIABLE_NAME
            """)
        let parameters = variables.compactMap(parameter).filter { !managedByCellar.contains($0.name) && !$0.name.hasPrefix("wsrep_") }
        let characterSets = try client.run("SELECT CHARACTER_SET_NAME FROM information_schema.CHARACTER_SETS").compactMap(\.first)
        let collations = try client.run("SELECT COLLATION_NAME, CHARACTER_SET_NAME FROM information_schema.COLLATIONS")
            .filter { $0.count == 2 }.map { ($0[0], $0[1]) }
        return DatastoreCatalog(
            parameters: parameters,
            characterSets: CharacterSetCatalog(
                characterSets: characterSets, collations: Dictionary(collations, uniquingKeysWith: { first, _ in first })))
    }

    /// One row of SYSTEM_VARIABLES as a parameter.
    static func parameter(_ row: [String]) -> ConfigurationParameter? {
        guard row.count == 7 else { return nil }
        let (name, type) = (row[0], row[1])
        let kind: ConfigurationParameter.Kind =
            switch type {
            case "BOOLEAN": .boolean
            case "DOUBLE": .float
            case let numeric
            where numeric.hasPrefix("INT") || numeric.hasPrefix("BIGINT") || numeric.hasPrefix("TINYINT")
                || numeric.hasPrefix("SMALLINT") || numeric.hasPrefix("MEDIUMINT"):
                .integer
            default: .string
            }
        return ConfigurationParameter(
            name: name, type: kind, min: Double(row[2]), max: Double(row[3]),
            allowedValues: type == "ENUM" ? row[4].split(separator: ",").map(String.init) : [],
            restartRequired: row[5] == "YES", unit: nil, description: row[6])
    }
}
