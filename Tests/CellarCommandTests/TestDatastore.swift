import Foundation
import LocalServers
import Testing

/// A datastore as the instance behaviour suite drives it: how its instances are created, how a client logs in
/// over TCP, which settings show a configuration group and a flavor, and which processes are its servers.
struct TestDatastore: Sendable, CustomTestStringConvertible {
    let type: String
    let version: String
    /// A character set for the `billing` database the suite creates.
    let characterSet: String
    /// Where root lands when it logs in (none: "").
    let rootDatabase: String
    /// SQL answering `yes` only for an account with every privilege.
    let superuserProbe: String
    /// A setting the server takes live, the value a group gives it, and how the server shows that value.
    let dynamicParameter: (name: String, value: Int, shown: String)
    /// A setting the server takes at start only, the value a group gives it, and how the server shows it.
    let restartParameter: (name: String, value: Int, shown: String)
    /// The setting sized from the flavor's memory, as shown for db.tiny (256 MB) and db.medium (1 GB).
    let memorySetting: (name: String, tiny: String, medium: String)

    var testDescription: String { type }

    static let postgresql = TestDatastore(
        type: "postgresql", version: "15", characterSet: "UTF8", rootDatabase: "postgres",
        superuserProbe: "SELECT CASE WHEN rolsuper THEN 'yes' ELSE 'no' END FROM pg_roles WHERE rolname = current_user",
        dynamicParameter: ("work_mem", 8192, "8MB"), restartParameter: ("max_connections", 50, "50"),
        memorySetting: ("shared_buffers", "64MB", "256MB"))

    static let mariadb = TestDatastore(
        type: "mariadb", version: "10.11", characterSet: "utf8mb4", rootDatabase: "",
        superuserProbe: "SELECT IF(COUNT(*) > 0, 'yes', 'no') FROM mysql.user",
        dynamicParameter: ("max_connections", 150, "150"), restartParameter: ("innodb_log_buffer_size", 33_554_432, "33554432"),
        memorySetting: ("innodb_buffer_pool_size", "\(64 * 1_048_576)", "\(256 * 1_048_576)"))

    static let all = [postgresql, mariadb]

    /// Runs `sql` as `user` over TCP on the instance's address (the password in the environment); the exit
    /// status and the output, one line per row.
    func login(
        _ address: String, user: String, password: String, database: String, _ sql: String = "SELECT 1"
    ) throws -> (status: Int32, output: String) {
        switch type {
        case "mariadb":
            let arguments = [
                "--no-defaults", "-h", address, "-P", "3306", "-u", user, "--connect-timeout=5", "--batch", "--skip-column-names", "-e", sql,
            ]
            return try UpCommandTests.run("/usr/bin/mariadb", arguments + (database.isEmpty ? [] : [database]), environment: ["MYSQL_PWD": password])
        default:
            return try UpCommandTests.run(
                "/usr/bin/psql", ["-h", address, "-p", "5432", "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
                environment: ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"])
        }
    }

    /// The value of a server setting as `user` sees it.
    func setting(_ name: String, _ address: String, user: String, password: String, database: String) throws -> String {
        let sql = type == "mariadb" ? "SELECT @@\(name)" : "SHOW \(name)"
        return try login(address, user: user, password: password, database: database, sql).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The live server processes of an instance whose folder is `folder`.
    func servers(in folder: URL) -> [Int32] {
        switch type {
        case "mariadb": ProcessStatus.processes(commandLineContaining: "mariadbd --defaults-file=\(folder.path)/")
        default: ProcessStatus.processes(commandLineContaining: "postgres -D \(folder.path)/data")
        }
    }

    /// The PID of the instance's one server, once only one runs (a restart under way shows two for a moment).
    func onlyServer(in folder: URL) async throws -> Int32 {
        var found: [Int32] = []
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            found = servers(in: folder)
            if found.count == 1 { return found[0] }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw Failure("\(found.count) \(type) servers under \(folder.path)")
    }
}
