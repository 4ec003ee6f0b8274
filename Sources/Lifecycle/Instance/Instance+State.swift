import Foundation

extension Instance {
    /// What is known about an instance after folding its events.
    public struct State: AggregateState {
        /// The current leaf of `instance.scxml`.
        public var leaf: String
        /// The Trove `status` (BUILD, ACTIVE, REBOOT, RESIZE, BACKUP, SHUTDOWN, ERROR, ...).
        public var status: String
        /// The number of events applied.
        public var version = 0
        /// Event types applied where the chart did not accept them (the leaf was kept).
        public var unacceptedEvents: [String] = []
        /// The instance id ("" before it is created).
        public var id = ""
        /// The owning project.
        public var projectId = ""
        /// The display name.
        public var name = ""
        /// The current flavor id.
        public var flavorId = ""
        /// The current volume size in GB.
        public var volumeSize = 0
        /// The datastore and its current version.
        public var datastore: Datastore?
        /// Database names.
        public var databases: [String] = []
        /// User accounts, `name@host` (never passwords); datastores without hosts record `%`.
        public var users: [UserAccount] = []
        /// The attached configuration group.
        public var configurationId: String?
        /// Its values, as last attached or updated.
        public var configurationValues: [String: ParameterValue]?
        /// The configuration the guest last applied (live, or staged for a restart); nil: defaults.
        public var appliedConfiguration: ConfigurationRef?
        /// Settings staged on the guest that take effect at the next restart (RESTART_REQUIRED).
        public var pendingRestart: [String]?
        /// Who may connect, once set through `PUT {"instance": {"access": ...}}`.
        public var access: Access?
        /// The cluster this instance is a member of.
        public var cluster: ClusterMembership?
        /// The replication source, while this instance is a replica.
        public var replicaOf: String?
        /// The compute driver's server id.
        public var serverId: String?
        /// The instance's own address.
        public var address: String?
        /// Whether a guest agent has registered.
        public var guestRegistered = false
        /// The guest's last reported health (nil before it reports).
        public var health: GuestHealth?
        /// Why the instance failed, while that matters (cleared when it recovers).
        public var fault: Fault?
        /// The flavor being resized to.
        public var pendingFlavorId: String?
        /// The volume size being resized to.
        public var pendingVolumeSize: Int?
        /// The datastore version being upgraded to.
        public var pendingDatastoreVersion: String?
        /// The backup running now.
        public var runningBackupId: String?
        /// When the instance was created.
        public var createdAt: Date?
        /// Whether root was ever enabled (nil in states stored before root existed: false).
        public var rootEnabled: Bool?

        /// A stream with no events: at the chart's initial leaf.
        public init(chart: Statechart) {
            leaf = chart.initialLeaf
            status = chart.status(of: chart.initialLeaf) ?? ""
        }

        /// The configuration asked for now (attached group and its values), nil when none is attached.
        public var requestedConfiguration: ConfigurationRef? {
            configurationId.map { ConfigurationRef(configurationId: $0, values: configurationValues ?? [:]) }
        }

        /// `Instance 8f3c...`, or `Instance` before it exists.
        public var subject: String { id.isEmpty ? "Instance" : "Instance \(id)" }

        /// Trove's `operating_status`: "" while a task runs or the server is not up (anything but ACTIVE and
        /// BACKUP), else the guest's health (`HEALTHY`, `SHUTDOWN`, `ERROR`, ...).
        public var operatingStatus: String {
            guard ["ACTIVE", "BACKUP", "RESTART_REQUIRED"].contains(status) else { return "" }
            return health?.operatingStatus ?? ""
        }
    }
}
