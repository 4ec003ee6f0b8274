import Foundation

extension Instance {
    /// What happened to an instance. Each case's type name (`eventType`) is an event of `instance.scxml`.
    public enum Event: DomainEvent {
        /// The API accepted `POST /instances`.
        case instanceCreateRequested(Spec)
        /// The compute driver started the server (for the process driver: the guest agent process).
        case computeAllocated(ComputeAllocation)
        /// The guest agent sent its first heartbeat.
        case guestRegistered
        /// The guest prepared the datastore and reports it healthy: the build is done.
        case instanceBecameActive
        /// A task failed past its retries (the reason becomes the `fault`).
        case instanceFailed(Failure)
        /// An operator reset the status (task cleared, guest health unknown).
        case statusReset
        /// An operator or user retries a build that failed.
        case buildRetryRequested
        /// `{"restart": {}}` was accepted.
        case restartRequested
        /// The datastore came back after a restart.
        case instanceRestarted
        /// `{"resize": {"flavorRef": ...}}` was accepted.
        case flavorResizeRequested(FlavorChange)
        /// The server runs on the new flavor.
        case flavorResized(FlavorChange)
        /// `{"resize": {"volume": {"size": ...}}}` was accepted.
        case volumeResizeRequested(VolumeChange)
        /// The volume has its new size.
        case volumeResized(VolumeChange)
        /// `PATCH {"instance": {"datastore_version": ...}}` was accepted.
        case upgradeRequested(VersionChange)
        /// The datastore runs the new version.
        case instanceUpgraded(VersionChange)
        /// A configuration group was attached (`PUT {"instance": {"configuration": id}}`); the guest applies it.
        case configurationAttached(ConfigurationRef)
        /// The attached group's values changed (`PATCH`/`PUT /configurations/{id}`); the guest applies them.
        case configurationUpdated(ConfigurationRef)
        /// The configuration group was detached; the guest goes back to its defaults.
        case configurationDetached
        /// The guest has every value of the configuration live.
        case configurationApplied
        /// The guest applied the dynamic values; these need a restart (RESTART_REQUIRED until one).
        case configurationRestartPending(PendingRestart)
        /// The guest could not apply the configuration and kept the values it had.
        case configurationApplyFailed(ConfigurationFailure)
        /// `PUT {"instance": {"name": ...}}`.
        case instanceRenamed(Rename)
        /// `{"promote_to_replica_source": {}}` was accepted.
        case replicaPromotionRequested
        /// The replica is now the replication source.
        case replicaPromoted
        /// `{"eject_replica_source": {}}` was accepted (the source is gone).
        case replicaSourceEjectionRequested
        /// The replica took over from the ejected source.
        case replicaSourceEjected
        /// `PUT {"instance": {"replica_of": null}}` was accepted.
        case replicaDetachRequested
        /// The replica no longer replicates.
        case replicaDetached
        /// The replica (or a former source) replicates from another source now (a promotion or an ejection).
        case replicationSourceChanged(ReplicationSource)
        /// The guest reports the datastore healthy again.
        case guestBecameHealthy
        /// The guest reports the datastore unhealthy (or its heartbeat expired).
        case guestBecameUnhealthy(UnhealthyGuest)
        /// The server stopped.
        case instanceShutDown
        /// The server runs again.
        case instanceStarted
        /// A backup of this instance started (the instance shows BACKUP).
        case backupStarted(BackupRef)
        /// That backup ended, completed or failed.
        case backupFinished(BackupOutcome)
        /// A change of databases, users or root was accepted; the guest makes it.
        case guestChangeRequested(GuestChange)
        /// The guest made the change.
        case guestChangeApplied(GuestChange)
        /// The guest refused or could not make the change (nothing changed).
        case guestChangeFailed(GuestChangeFailure)
        /// `DELETE /instances/{id}` was accepted.
        case deleteRequested
        /// The server and its data are gone.
        case instanceDeleted
    }

    /// The instance as created: everything but passwords.
    public struct Spec: Codable, Sendable, Equatable {
        /// The instance id.
        public var id: String
        /// The owning project.
        public var projectId: String
        /// The display name.
        public var name: String
        /// The flavor id.
        public var flavorId: String
        /// The volume size in GB.
        public var volumeSize: Int
        /// The datastore and version.
        public var datastore: Datastore
        /// Databases to create.
        public var databases: [DatabaseSpec]
        /// Users to create (passwords travel outside the log).
        public var users: [UserSpec]
        /// The configuration group attached at create.
        public var configurationId: String?
        /// That group's values.
        public var configurationValues: [String: ParameterValue]?
        /// The replication source, for a replica.
        public var replicaOf: String?
        /// The cluster it was created for (absent for standalone instances, and in older events).
        public var cluster: ClusterMembership?
        /// When the request was accepted (`created`).
        public var createdAt: Date
        /// The backup its data comes from (absent for a new, empty instance, and in older events).
        public var restoreFrom: String?

        /// Creates a spec.
        public init(
            id: String, projectId: String, name: String, flavorId: String, volumeSize: Int, datastore: Datastore,
            databases: [DatabaseSpec], users: [UserSpec], configurationId: String?,
            configurationValues: [String: ParameterValue]? = nil, replicaOf: String?, cluster: ClusterMembership? = nil, createdAt: Date,
            restoreFrom: String? = nil
        ) {
            self.cluster = cluster
            self.restoreFrom = restoreFrom
            self.configurationValues = configurationValues
            self.id = id
            self.projectId = projectId
            self.name = name
            self.flavorId = flavorId
            self.volumeSize = volumeSize
            self.datastore = datastore
            self.databases = databases
            self.users = users
            self.configurationId = configurationId
            self.replicaOf = replicaOf
            self.createdAt = createdAt
        }
    }

    /// The source a replica streams from.
    public struct ReplicationSource: Codable, Sendable, Equatable {
        public var sourceId: String
        public init(sourceId: String) { self.sourceId = sourceId }
    }

    /// Where the compute driver put the instance.
    public struct ComputeAllocation: Codable, Sendable, Equatable {
        /// The driver's server id.
        public var serverId: String
        /// The instance's own address (e.g. `127.0.3.7`).
        public var address: String
        /// Creates an allocation.
        public init(serverId: String, address: String) {
            self.serverId = serverId
            self.address = address
        }
    }

    /// A flavor to resize to.
    public struct FlavorChange: Codable, Sendable, Equatable {
        /// The new flavor id.
        public var flavorId: String
        /// Creates a flavor change.
        public init(flavorId: String) { self.flavorId = flavorId }
    }

    /// A volume size to grow to.
    public struct VolumeChange: Codable, Sendable, Equatable {
        /// The new size in GB.
        public var size: Int
        /// Creates a volume change.
        public init(size: Int) { self.size = size }
    }

    /// A datastore version to upgrade to.
    public struct VersionChange: Codable, Sendable, Equatable {
        /// The new datastore version.
        public var datastoreVersion: String
        /// Creates a version change.
        public init(datastoreVersion: String) { self.datastoreVersion = datastoreVersion }
    }

    /// A configuration group and its values at the time (so the instance's stream alone says what it runs).
    public struct ConfigurationRef: Codable, Sendable, Equatable {
        /// The configuration group id.
        public var configurationId: String
        /// The group's values.
        public var values: [String: ParameterValue]
        /// Creates a configuration reference.
        public init(configurationId: String, values: [String: ParameterValue] = [:]) {
            self.configurationId = configurationId
            self.values = values
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            configurationId = try container.decode(String.self, forKey: .configurationId)
            values = try container.decodeIfPresent([String: ParameterValue].self, forKey: .values) ?? [:]
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(configurationId, forKey: .configurationId)
            if !values.isEmpty { try container.encode(values, forKey: .values) }
        }

        enum CodingKeys: String, CodingKey { case configurationId, values }
    }

    /// Settings the datastore takes only at its next restart.
    public struct PendingRestart: Codable, Sendable, Equatable {
        /// Their names.
        public var parameters: [String]
        /// Creates the list.
        public init(parameters: [String]) { self.parameters = parameters }
    }

    /// Why a configuration could not be applied.
    public struct ConfigurationFailure: Codable, Sendable, Equatable {
        /// For people: the datastore's own message.
        public var reason: String
        /// Creates a failure.
        public init(reason: String) { self.reason = reason }
    }

    /// A new display name.
    public struct Rename: Codable, Sendable, Equatable {
        /// The new name.
        public var name: String
        /// Creates a rename.
        public init(name: String) { self.name = name }
    }

    /// Who may connect (`PUT {"instance": {"access": ...}}`), enforced by the datastore's host-based rules.
    public struct Access: Codable, Sendable, Equatable {
        /// Trove's flag for a public address; every address of the process driver is private.
        public var isPublic: Bool
        /// Client networks allowed to connect; empty: any.
        public var allowedCidrs: [String]
        /// Creates an access rule.
        public init(isPublic: Bool, allowedCidrs: [String]) {
            self.isPublic = isPublic
            self.allowedCidrs = allowedCidrs
        }
    }

    /// Why a guest counts as unhealthy (`GuestBecameUnhealthy`): the health the conductor concluded from its reports.
    public struct UnhealthyGuest: Codable, Sendable, Equatable {
        /// The reported health.
        public var health: GuestHealth
        /// Creates a report.
        public init(health: GuestHealth) { self.health = health }
    }

    /// A backup of this instance.
    public struct BackupRef: Codable, Sendable, Equatable {
        /// The backup id.
        public var backupId: String
        /// Creates a backup reference.
        public init(backupId: String) { self.backupId = backupId }
    }

    /// How a backup of this instance ended.
    public struct BackupOutcome: Codable, Sendable, Equatable {
        /// The backup id.
        public var backupId: String
        /// Whether it completed (else it failed).
        public var succeeded: Bool
        /// Creates an outcome.
        public init(backupId: String, succeeded: Bool) {
            self.backupId = backupId
            self.succeeded = succeeded
        }
    }
}
