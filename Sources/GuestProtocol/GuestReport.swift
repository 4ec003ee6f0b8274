import Foundation
import Lifecycle

/// The condition of a guest's datastore, as the guest sees it. One typed value for the heartbeat, `get_status`
/// and the conductor (on the wire: Trove's `ServiceStatus` descriptions, `healthy`, `shutdown`, ...).
public enum DatastoreCondition: String, Codable, Sendable, Equatable, CaseIterable {
    /// Not prepared yet: nothing to report about health.
    case building
    case healthy
    /// Stopped on purpose.
    case shutdown
    /// Stopped although it should run.
    case crashed
    /// Running but not answering.
    case blocked
    /// It failed to start.
    case failed
    /// A description this side does not know (a newer guest).
    case unknown

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        switch text {
        case "running": self = .healthy
        case "new": self = .building
        default: self = DatastoreCondition(rawValue: text) ?? .unknown
        }
    }

    /// The instance health it reports (nil while building: registration, not health).
    public var health: GuestHealth? {
        switch self {
        case .building: nil
        case .healthy: .healthy
        case .shutdown: .shutdown
        case .crashed: .crashed
        case .blocked: .blocked
        case .failed: .failed
        case .unknown: .unknown
        }
    }
}

/// The part a member plays in replication.
public enum GuestRole: String, Codable, Sendable, Equatable {
    case primary, replica
}

/// What a guest reports with every heartbeat and answers to `get_status`.
public struct GuestReport: Codable, Sendable, Equatable {
    /// The instance the guest runs beside.
    public var instanceID: String
    public var condition: DatastoreCondition
    public var role: GuestRole
    /// Bytes used by the data directory.
    public var volumeUsedBytes: Int64
    /// The size the volume may grow to, in GB (0: not prepared yet).
    public var volumeSizeGB: Int
    /// The datastore server's version, e.g. `15.18`.
    public var serverVersion: String?
    /// When the guest made it.
    public var sentAt: Date
    /// A cluster member's group figures, by the server's own status names (Galera: `wsrep_cluster_size`,
    /// `wsrep_local_state`, `wsrep_flow_control_paused`, `wsrep_local_recv_queue`, `wsrep_local_cert_failures`).
    public var clusterFigures: [String: Double]?
    /// An active-passive member's replication state.
    public var replication: ReplicationStatus?
    /// Client sessions and transactions, for the console's plots (nil while not serving).
    public var activity: Activity?

    /// What the server is doing: its client sessions now, and every transaction it ended since it started
    /// (commits and rollbacks; a counter, so a rate is the difference of two reports).
    public struct Activity: Codable, Sendable, Equatable {
        public var connections: Int
        public var transactions: Int64
        public init(connections: Int, transactions: Int64) {
            self.connections = connections
            self.transactions = transactions
        }
    }

    public init(
        instanceID: String, condition: DatastoreCondition, role: GuestRole = .primary, volumeUsedBytes: Int64,
        volumeSizeGB: Int, serverVersion: String?, sentAt: Date, clusterFigures: [String: Double]? = nil,
        replication: ReplicationStatus? = nil
    ) {
        self.clusterFigures = clusterFigures
        self.replication = replication
        self.instanceID = instanceID
        self.condition = condition
        self.role = role
        self.volumeUsedBytes = volumeUsedBytes
        self.volumeSizeGB = volumeSizeGB
        self.serverVersion = serverVersion
        self.sentAt = sentAt
    }

    enum CodingKeys: String, CodingKey {
        case instanceID = "instance_id"
        case condition = "status"
        case role
        case volumeUsedBytes = "volume_used_bytes"
        case volumeSizeGB = "volume_size_gb"
        case serverVersion = "server_version"
        case sentAt = "sent_at"
        case clusterFigures = "cluster_figures"
        case replication, activity
    }
}
