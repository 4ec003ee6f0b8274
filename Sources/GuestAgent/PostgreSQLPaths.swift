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

    func socketFile(port: Int) -> String { socketDirectory.appendingPathComponent(".s.PGSQL.\(port)").path }
}

/// What the guest remembers between its own restarts.
struct GuestState: Codable, Equatable {
    /// Prepare finished once: the datastore should be running.
    var prepared = false
    /// The volume size in GB; writes stop (read-only) when the data directory outgrows it.
    var volumeSizeGB = 0
    /// Memory of the flavor, for the server's settings.
    var memoryMB = 0
    /// The server was stopped through `stop`: do not start it again on the guest's own start.
    var stoppedOnPurpose = false
    /// Whether writes are refused because the volume is full.
    var readOnlyForVolume = false
    /// The configuration group's values, written after Cellar's own settings in `cellar.conf`.
    var overrides: [String: ParameterValue] = [:]
    /// Client networks allowed to connect over TCP (empty: any).
    var allowedCidrs: [String] = []
    /// Counts configuration writes; the server shows it as `cellar.generation` once it has read the file.
    var configurationGeneration = 0

    init() {}

    init(from decoder: any Decoder) throws {
        // Fields added later are absent from older guests' files.
        let container = try decoder.container(keyedBy: CodingKeys.self)
        prepared = try container.decodeIfPresent(Bool.self, forKey: .prepared) ?? false
        volumeSizeGB = try container.decodeIfPresent(Int.self, forKey: .volumeSizeGB) ?? 0
        memoryMB = try container.decodeIfPresent(Int.self, forKey: .memoryMB) ?? 0
        stoppedOnPurpose = try container.decodeIfPresent(Bool.self, forKey: .stoppedOnPurpose) ?? false
        readOnlyForVolume = try container.decodeIfPresent(Bool.self, forKey: .readOnlyForVolume) ?? false
        overrides = try container.decodeIfPresent([String: ParameterValue].self, forKey: .overrides) ?? [:]
        allowedCidrs = try container.decodeIfPresent([String].self, forKey: .allowedCidrs) ?? []
        configurationGeneration = try container.decodeIfPresent(Int.self, forKey: .configurationGeneration) ?? 0
    }

    static func load(from url: URL) -> GuestState {
        guard let data = FileManager.default.contents(atPath: url.path) else { return GuestState() }
        return (try? JSONDecoder().decode(GuestState.self, from: data)) ?? GuestState()
    }

    func save(to url: URL) throws {
        try JSONEncoder().encode(self).write(to: url, options: .atomic)
    }
}
