import Bus
import Foundation

/// Where one instance's MariaDB keeps its files, inside the instance folder the compute driver made.
struct MariaDBPaths: Sendable {
    let instanceDirectory: URL
    /// A short folder for the socket and pid file (Unix socket paths are limited to 107 bytes).
    let runtimeDirectory: URL

    /// The data directory (owned by the database OS user).
    var data: URL { instanceDirectory.appendingPathComponent("data", isDirectory: true) }
    /// The socket folder (mode 700: only the guest and the server reach it).
    var socketDirectory: URL { runtimeDirectory.appendingPathComponent("mariadb", isDirectory: true) }
    var socket: URL { socketDirectory.appendingPathComponent("mysqld.sock") }
    var pidFile: URL { socketDirectory.appendingPathComponent("mysqld.pid") }
    var logDirectory: URL { instanceDirectory.appendingPathComponent("log", isDirectory: true) }
    var errorLog: URL { logDirectory.appendingPathComponent("mariadb.err") }
    /// The only options file the server reads (`--defaults-file`): Cellar's settings, then the group's values.
    var optionsFile: URL { instanceDirectory.appendingPathComponent("my.cnf") }
    /// Written once mariadb-install-db succeeded: an interrupted one is started over.
    var initialized: URL { instanceDirectory.appendingPathComponent("install-db.done") }
    var guestState: URL { instanceDirectory.appendingPathComponent("guest-state.json") }
}
