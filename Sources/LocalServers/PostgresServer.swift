import Foundation
import Logging

/// A private PostgreSQL server: initdb on first start, reused afterwards, stopped with `pg_ctl stop -m fast`.
///
/// When Cellar runs as root the server runs as an unprivileged OS user (PostgreSQL refuses root).
public struct PostgresServer: Sendable {
    /// Folder holding `data/`, the log and the Unix socket.
    public let directory: URL
    /// TCP port on 127.0.0.1.
    public let port: Int
    /// Password of the `postgres` superuser (SCRAM; trust is never used).
    public let password: String
    /// OS user the server runs as; nil means the current user.
    public let osUser: String?
    /// When false, `fsync=off`: for throw-away test servers only.
    public let durable: Bool
    /// Database created for Cellar's own tables.
    public let databaseName: String

    public init(directory: URL, port: Int, password: String, osUser: String?, durable: Bool, databaseName: String) {
        self.directory = directory
        self.port = port
        self.password = password
        self.osUser = osUser
        self.durable = durable
        self.databaseName = databaseName
    }

    var dataDirectory: URL { directory.appendingPathComponent("data", isDirectory: true) }
    var logFile: URL { directory.appendingPathComponent("server.log") }

    /// Connection URL for the Cellar database.
    public var url: String { "postgres://postgres:\(password)@127.0.0.1:\(port)/\(databaseName)" }

    /// Initializes (first time) and starts the server unless it already runs; then ensures the database exists.
    public func start(logger: Logger) throws {
        let binaries = try PostgresBinaries.locate()
        try prepareDirectory()
        if !FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            logger.info("initializing PostgreSQL data directory", metadata: ["path": "\(dataDirectory.path)"])
            try initialize(binaries)
        }
        if isRunning(binaries) {
            logger.info("reusing running PostgreSQL", metadata: ["port": "\(port)"])
        } else {
            var options = "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1"
            if !durable { options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off" }
            try CommandRunner.run(
                binaries.path("pg_ctl"), ["-D", dataDirectory.path, "-l", logFile.path, "-w", "-s", "-t", "60", "-o", options, "start"],
                asUser: osUser)
            logger.info("started PostgreSQL", metadata: ["port": "\(port)"])
        }
        try createDatabaseIfMissing(binaries)
    }

    /// PID of the running postmaster, from `postmaster.pid`, if it is alive.
    public var runningPID: Int32? { Self.runningPID(dataDirectory: dataDirectory) }

    static func runningPID(dataDirectory: URL) -> Int32? {
        guard let text = try? String(contentsOf: dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8),
            let firstLine = text.split(separator: "\n").first, let pid = Int32(firstLine),
            ProcessStatus.isAlive(pid: pid)
        else { return nil }
        return pid
    }

    /// Stops the server (fast shutdown) if it runs.
    public func stop() throws {
        let binaries = try PostgresBinaries.locate()
        guard isRunning(binaries) else { return }
        try CommandRunner.run(binaries.path("pg_ctl"), ["-D", dataDirectory.path, "-m", "fast", "-w", "-s", "stop"], asUser: osUser)
    }

    /// True when `pg_ctl status` finds a live postmaster for the data directory.
    func isRunning(_ binaries: PostgresBinaries) -> Bool {
        guard FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("postmaster.pid").path) else { return false }
        let output =
            (try? CommandRunner.run(binaries.path("pg_ctl"), ["-D", dataDirectory.path, "status"], asUser: osUser, allowFailure: true)) ?? ""
        return output.contains("server is running")
    }

    private func prepareDirectory() throws {
        let manager = FileManager.default
        try manager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if let osUser { try manager.setAttributes([.ownerAccountName: osUser, .groupOwnerAccountName: osUser], ofItemAtPath: directory.path) }
    }

    private func initialize(_ binaries: PostgresBinaries) throws {
        let passwordFile = directory.appendingPathComponent("initdb.pw")
        try writePrivateFile(Data(password.utf8), to: passwordFile)
        defer { try? FileManager.default.removeItem(at: passwordFile) }
        if let osUser { try FileManager.default.setAttributes([.ownerAccountName: osUser], ofItemAtPath: passwordFile.path) }
        var arguments = [
            "-D", dataDirectory.path, "-U", "postgres", "--auth=scram-sha-256", "--pwfile", passwordFile.path, "-E", "UTF8", "--locale=C",
        ]
        if !durable { arguments.append("--no-sync") }
        try CommandRunner.run(binaries.path("initdb"), arguments, asUser: osUser)
    }

    private func createDatabaseIfMissing(_ binaries: PostgresBinaries) throws {
        let environment = ["PGPASSWORD": password]
        let connection = ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-tAc"]
        let exists = try CommandRunner.run(
            binaries.path("psql"), connection + ["SELECT 1 FROM pg_database WHERE datname = '\(databaseName)'"], environment: environment)
        if exists.trimmingCharacters(in: .whitespacesAndNewlines) != "1" {
            try CommandRunner.run(binaries.path("psql"), connection + ["CREATE DATABASE \"\(databaseName)\""], environment: environment)
        }
    }
}

/// The PostgreSQL server binaries (initdb, pg_ctl, psql) of the newest installed major version.
public struct PostgresBinaries: Sendable {
    /// The folder holding initdb, pg_ctl, postgres and psql.
    public let directory: String

    /// The full path of one of the tools.
    public func path(_ tool: String) -> String { "\(directory)/\(tool)" }

    /// The binaries of the newest installed major version.
    public static func locate() throws -> PostgresBinaries {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let candidates = versions.compactMap(Int.init).sorted(by: >).map { "\(root)/\($0)/bin" }
        for directory in candidates where FileManager.default.isExecutableFile(atPath: "\(directory)/initdb") {
            return PostgresBinaries(directory: directory)
        }
        throw CommandFailure(command: "locate initdb", status: 127, output: "PostgreSQL server binaries not found under \(root); run scripts/setup")
    }
}
