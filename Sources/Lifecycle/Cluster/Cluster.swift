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

    /// An active-passive member's replication slot on the primary, and its `application_name` there (PostgreSQL
    /// slot names: lower-case letters, digits and `_`).
    public static func replicationSlotName(of instanceId: String) -> String {
        "cellar_" + instanceId.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
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
        /// Active-passive: the promotion preference (0: never promoted; nil in older events: 1).
        public var weight: Int?

        /// The promotion preference, 1 when never given.
        public var promotionWeight: Int { weight ?? 1 }

        /// Creates a member.
        public init(id: String, name: String, flavorId: String, volumeSize: Int, type: String = "member", weight: Int? = nil) {
            self.id = id
            self.name = name
            self.flavorId = flavorId
            self.volumeSize = volumeSize
            self.type = type
            self.weight = weight
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
        /// Active-passive: commits wait for a standby.
        public var synchronous: Bool?

        /// Creates a create request.
        public init(
            id: String, projectId: String, name: String, datastore: Datastore, members: [Member],
            configurationId: String? = nil, algorithm: BalancerAlgorithm? = nil, locality: String? = nil, synchronous: Bool? = nil
        ) {
            self.synchronous = synchronous
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
        /// A rolling restart asked this member to restart (the members before it are ACTIVE again).
        case recordMemberRestarting(instanceId: String)
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
        /// `{"weights": {"<member id>": 100, ...}}` (active-passive).
        case changeWeights([String: Int])
        /// The failover monitor lost the primary (missed heartbeats and a failed direct probe).
        case startFailover(lostPrimaryId: String, reason: String)
        /// The lost primary can no longer take writes (`how`: stopped by its guest, or powered off).
        case recordFenced(memberId: String, how: String)
        /// The failover decision: whom to promote, and why the others were not.
        case recordElected(memberId: String, refusals: [String])
        /// The elected member is the primary now.
        case recordPromoted(memberId: String)
        /// The other replicas follow the new primary.
        case recordRepointed(memberIds: [String])
        /// The failover is over: task NONE.
        case recordFailoverCompleted
        /// A fenced member's guest answers again: make it a replica of the primary.
        case requestRejoin(memberId: String)
        /// The fenced member replicates from the primary again.
        case recordRejoined(memberId: String)
        /// Root was enabled through `memberId`, the member that takes writes.
        case recordRootEnabled(memberId: String)
    }
}
