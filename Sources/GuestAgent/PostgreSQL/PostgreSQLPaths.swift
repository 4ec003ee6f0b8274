import Foundation
import Lifecycle

/// Where one instance's PostgreSQL keeps its files, inside the instance folder the compute driver made.
struct PostgreSQLPaths: Sendable {
    let instanceDirectory: URL
    /// A short folder for sockets (Unix socket paths are limited to 107 bytes).
    let runtimeDirectory: URL

    /// The data directory (owned by the database OS user).
    var data: URL { instanceDirectory.appendingPathComponent("data", isDirectory: true) }
    /// The Unix socket directory (mode 700: only the guest and the server reach it).
    var socketDirectory: URL { runtimeDirectory.appendingPathComponent("postgresql", isDirectory: true) }
    /// The server log.
    var logDirectory: URL { instanceDirectory.appendingPathComponent("log", isDirectory: true) }
    var serverLog: URL { logDirectory.appendingPathComponent("postgresql.log") }
    /// Written once initdb succeeded: an interrupted initdb is started over.
    var initialized: URL { instanceDirectory.appendingPathComponent("initdb.done") }
    /// The guest's own settings: prepared or not, volume size, whether the server was stopped on purpose.
    var guestState: URL { instanceDirectory.appendingPathComponent("guest-state.json") }
    /// Cellar's settings, included from postgresql.conf.
    var cellarConf: URL { data.appendingPathComponent("cellar.conf") }
    var hbaConf: URL { data.appendingPathComponent("pg_hba.conf") }
    var identConf: URL { data.appendingPathComponent("pg_ident.conf") }
    /// A standby's primary and slot (with the replication password), included from `cellar.conf`.
    var replicationConf: URL { data.appendingPathComponent("cellar-replication.conf") }

    func socketFile(port: Int) -> String { socketDirectory.appendingPathComponent(".s.PGSQL.\(port)").path }
}
