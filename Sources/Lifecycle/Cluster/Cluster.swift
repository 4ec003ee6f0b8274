import Foundation

/// A cluster of instances: built, grown, shrunk, restarted, upgraded, reconfigured, deleted, along
/// `statecharts/cluster.scxml`.
public enum Cluster: Aggregate {
    /// The guards `cluster.scxml` uses in `cond`.
    public enum Guard: String, CaseIterable, Sendable {
        /// A shrink leaves at least one member.
        case keepsAMember
    }

    /// Whether `name` holds in `state` for `event`; names the chart uses but `Guard` does not know are false.
    public static func guardHolds(_ name: String, in state: State, on event: Event) -> Bool {
        guard let known = Guard(rawValue: name) else { return false }
        switch known {
        case .keepsAMember:
            guard case .clusterShrinkRequested(let leaving) = event else { return false }
            return state.members.contains { !leaving.memberIds.contains($0.id) }
        }
    }

    /// One instance of a cluster.
    public struct Member: Codable, Sendable, Equatable {
        /// The instance id.
        public var id: String
        /// The instance name.
        public var name: String
        /// The flavor id.
        public var flavorId: String
        /// The volume size in GB.
        public var volumeSize: Int
        /// The member type shown by the API (Galera: `member`).
        public var type: String

        /// Creates a member.
        public init(id: String, name: String, flavorId: String, volumeSize: Int, type: String = "member") {
            self.id = id
            self.name = name
            self.flavorId = flavorId
            self.volumeSize = volumeSize
            self.type = type
        }
    }

    /// `POST /clusters`, validated by `decide`.
    public struct CreateRequest: Sendable, Equatable {
        /// The new cluster's id (chosen by the caller).
        public var id: String
        /// The owning project.
        public var projectId: String
        /// The display name.
        public var name: String
        /// The datastore and version.
        public var datastore: Datastore
        /// The members, with ids chosen by the caller.
        public var members: [Member]
        /// A configuration group for every member.
        public var configurationId: String?
        /// The load balancer's algorithm (nil: round robin).
        public var algorithm: BalancerAlgorithm?
        /// The placement policy (`affinity`, `anti-affinity`).
        public var locality: String?

        /// Creates a create request.
        public init(
            id: String, projectId: String, name: String, datastore: Datastore, members: [Member],
            configurationId: String? = nil, algorithm: BalancerAlgorithm? = nil, locality: String? = nil
        ) {
            self.algorithm = algorithm
            self.locality = locality
            self.id = id
            self.projectId = projectId
            self.name = name
            self.datastore = datastore
            self.members = members
            self.configurationId = configurationId
        }
    }

    /// What the API and the task manager ask of a cluster.
    public enum Command: Sendable, Equatable {
        /// `POST /clusters`.
        case create(CreateRequest)
        /// Every member is active.
        case recordBecameActive
        /// `{"grow": [...]}`.
        case grow([Member])
        /// The new members are active.
        case recordGrown
        /// `{"shrink": [{"id": ...}]}`.
        case shrink(memberIds: [String])
        /// The members are removed.
        case recordShrunk
        /// `{"restart": {}}`.
        case restart
        /// Every member restarted.
        case recordRestarted
        /// `{"upgrade": {"datastore_version": ...}}`.
        case upgrade(datastoreVersion: String)
        /// Every member runs the new version.
        case recordUpgraded
        /// `{"configuration_attach": {"configuration_id": ...}}`.
        case attachConfiguration(configurationId: String)
        /// `{"configuration_detach": {}}`.
        case detachConfiguration
        /// Every member has the new configuration.
        case recordConfigurationChanged
        /// A cluster task failed.
        case recordFailure(reason: String)
        /// `{"reset-status": {}}` (admin).
        case resetStatus
        /// `DELETE /clusters/{id}`.
        case delete
        /// Every member and the cluster are gone.
        case recordDeleted
        /// The load balancer was (re)configured.
        case recordBalancer(Balancer)
        /// `{"balancer": {"algorithm": ...}}`.
        case changeBalancer(BalancerAlgorithm)
    }
}
