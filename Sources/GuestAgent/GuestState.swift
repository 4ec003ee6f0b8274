import Foundation
import GuestProtocol
import Lifecycle

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
    /// The group this server is a member of (nil: a standalone server).
    var cluster: ClusterSettings?
    /// Active-passive: fenced by a failover; the server stays stopped until the member rejoins as a replica.
    var fenced = false
    /// Active-passive primary: the standbys a commit waits for, in order of preference (empty: asynchronous).
    var synchronousStandbys: [String] = []

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
        cluster = try container.decodeIfPresent(ClusterSettings.self, forKey: .cluster)
        fenced = try container.decodeIfPresent(Bool.self, forKey: .fenced) ?? false
        synchronousStandbys = try container.decodeIfPresent([String].self, forKey: .synchronousStandbys) ?? []
    }

    static func load(from url: URL) -> GuestState {
        guard let data = FileManager.default.contents(atPath: url.path) else { return GuestState() }
        return (try? JSONDecoder().decode(GuestState.self, from: data)) ?? GuestState()
    }

    func save(to url: URL) throws {
        try JSONEncoder().encode(self).write(to: url, options: .atomic)
    }
}
