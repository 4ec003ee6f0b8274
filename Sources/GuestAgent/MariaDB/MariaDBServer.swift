import Bus
import Foundation
import LocalServers

/// Installing and starting a `mariadbd`: what an instance's manager and the throw-away catalog server share.
/// Both block their thread (run them on a dedicated one).
enum MariaDBServer {
    /// `mariadb-install-db` into `dataDirectory` (only the socket's `root@localhost` is meant to stay usable).
    static func install(dataDirectory: String, osUser: String?) throws {
        var arguments = ["--no-defaults", "--datadir=\(dataDirectory)", "--auth-root-authentication-method=normal", "--skip-test-db"]
        if let osUser { arguments.append("--user=\(osUser)") }
        try CommandRunner.run("/usr/bin/mariadb-install-db", arguments)
    }

    /// Starts `mariadbd` reading only `optionsFile` (as `osUser` when given; its own output appended to `output`)
    /// and returns its pid once it answers SQL through `client`; a server that dies or stays silent for 60 s is
    /// a failure with the error log's own lines.
    /// `extraArguments` go after the options file (`--wsrep-new-cluster` seeds a Galera group); a member that
    /// joins one copies its data first, so it may take up to `timeout` to answer.
    static func start(
        optionsFile: String, output: String, errorLog: String, client: MariaDBClient, osUser: String?,
        extraArguments: [String] = [], timeout: Duration = .seconds(60)
    ) throws -> pid_t {
        var arguments = ["--defaults-file=\(optionsFile)"]
        if let osUser { arguments.append("--user=\(osUser)") }
        let pid = try spawn(
            "/usr/sbin/mariadbd", arguments + extraArguments, environment: [:], outputPath: output, append: true,
            inheritEnvironment: false)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, ProcessStatus.isAlive(pid: pid) {
            if client.answers() { return pid }
            usleep(20_000)
        }
        let log = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
        let errors = log.split(separator: "\n").filter { $0.contains("ERROR") }.suffix(3).joined(separator: " | ")
        throw RemoteFailure(type: "DatastoreStartFailed", message: "MariaDB did not start: \(errors.isEmpty ? String(log.suffix(300)) : errors)")
    }

    /// The account Galera's state transfers (`mariadb-backup` on a donor) log in as: the OS user the server runs
    /// as (`osUser`, else this process's), through the socket, without a password.
    static func transferUser(osUser: String?) -> String { osUser ?? MariaDBClient.processUser }

    /// The guest's own account on a server it just started: its OS user through the socket (`unix_socket`: no
    /// password exists to steal), every privilege. Made once, on a fresh install (the copy of a prepared directory,
    /// whose only way in is the install's password-less `root@localhost`); the install's other accounts go and
    /// `root@localhost` is locked, so no account without a password remains. A Galera joiner's data brings the
    /// account from its group (whose members share one OS user).
    static func ensureAdminAccount(_ client: MariaDBClient) throws {
        do {
            try client.run("SELECT 1")
            return
        } catch let failure as RemoteFailure where failure.message.contains("Access denied") {
            // A fresh install: set it up below.
        } catch {
            return  // not taking SQL yet (a joiner still syncing): its data brings the account
        }
        let install = MariaDBClient(socket: client.socket, user: "root")
        try createAdminAccount(client.user, on: install)
        let extra = try install.run("SELECT User, Host FROM mysql.user WHERE (User = 'root' AND Host NOT IN ('localhost', '%')) OR User = ''")
        for row in extra where row.count == 2 { try install.run("DROP USER IF EXISTS \(MariaDBClient.account(row[0], row[1]))") }
        if client.user != "root" { try install.run("ALTER USER 'root'@'localhost' ACCOUNT LOCK") }
    }

    /// `user@localhost` through the socket only (`unix_socket`), with every privilege (state transfers need
    /// RELOAD, PROCESS, LOCK TABLES and BINLOG MONITOR; the guest, the rest).
    static func createAdminAccount(_ user: String, on client: MariaDBClient) throws {
        let account = MariaDBClient.account(user, "localhost")
        try client.run(
            """
            CREATE USER IF NOT EXISTS \(account) IDENTIFIED VIA unix_socket;
            GRANT ALL PRIVILEGES ON *.* TO \(account) WITH GRANT OPTION;
            """)
    }
}
