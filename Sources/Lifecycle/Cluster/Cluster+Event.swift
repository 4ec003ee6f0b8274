import Foundation

extension Cluster {
    /// What happened to a cluster. Each case's type name (`eventType`) is an event of `cluster.scxml`.
    public enum Event: DomainEvent {
        /// The API accepted `POST /clusters`.
        case clusterCreateRequested(Spec)
        /// Every member is active.
        case clusterBecameActive
        /// `grow` was accepted; the new members are building.
        case clusterGrowRequested(Members)
        /// The new members are active.
        case clusterGrown
        /// `shrink` was accepted; the members are being removed.
        case clusterShrinkRequested(MemberIds)
        /// The members are removed.
        case clusterShrunk
        /// `restart` was accepted (rolling restart).
        case clusterRestartRequested
        /// A rolling restart asked this member to restart (the members before it are ACTIVE again).
        case clusterMemberRestarting(MemberRef)
        /// Every member restarted.
        case clusterRestarted
        /// `upgrade` was accepted.
        case clusterUpgradeRequested(VersionChange)
        /// Every member runs the new version.
        case clusterUpgraded(VersionChange)
        /// `configuration_attach` (an id) or `configuration_detach` (nil) was accepted.
        case clusterConfigurationChangeRequested(ConfigurationChange)
        /// Every member has the new configuration.
        case clusterConfigurationChanged(ConfigurationChange)
        /// A cluster task failed.
        case clusterFailed(Failure)
        /// An operator reset the task to NONE.
        case clusterStatusReset
        /// `DELETE /clusters/{id}` was accepted.
        case clusterDeleteRequested
        /// Every member and the cluster are gone.
        case clusterDeleted
        /// The load balancer listens on `address` and sends to these members (after a create, grow, shrink or
        /// balancer change).
        case clusterBalancerConfigured(Balancer)
        /// `{"balancer": {"algorithm": ...}}` was accepted.
        case clusterBalancerChangeRequested(BalancerChange)
        /// New promotion weights were accepted (active-passive).
        case clusterWeightsChanged(Weights)
        /// The primary was found lost: a failover begins.
        case clusterFailoverStarted(FailoverStart)
        /// The lost primary was fenced.
        case clusterMemberFenced(Fence)
        /// The failover decision.
        case clusterPrimaryElected(Election)
        /// The elected replica was promoted: it is the primary.
        case clusterPrimaryPromoted(MemberRef)
        /// The other replicas follow the new primary.
        case clusterReplicasRepointed(MemberIds)
        /// The failover ended.
        case clusterFailoverCompleted(MemberRef)
        /// A fenced member is to become a replica again.
        case clusterRejoinRequested(MemberRef)
        /// A fenced member replicates from the primary again.
        case clusterMemberRejoined(MemberRef)
        /// `POST /clusters/{id}/root`: root was enabled (or its password reset) through the member that takes
        /// writes; replication carries it to every member, promoted or added later. The password is never recorded.
        case clusterRootEnabled(RootGrant)
    }

    /// Root enabled on the cluster, through which member.
    public struct RootGrant: Codable, Sendable, Equatable {
        /// The member whose guest set the password (the primary, or a synced Galera member).
        public var memberId: String
        public init(memberId: String) { self.memberId = memberId }
    }

    /// Promotion weights by member id.
    public struct Weights: Codable, Sendable, Equatable {
        public var weights: [String: Int]
        public init(weights: [String: Int]) { self.weights = weights }
    }

    /// Why a failover began.
    public struct FailoverStart: Codable, Sendable, Equatable {
        /// The primary that was lost.
        public var lostPrimaryId: String
        /// What the monitor saw.
        public var reason: String
        public init(lostPrimaryId: String, reason: String) {
            self.lostPrimaryId = lostPrimaryId
            self.reason = reason
        }
    }

    /// A member fenced, and how.
    public struct Fence: Codable, Sendable, Equatable {
        public var memberId: String
        /// `stopped by its guest` or `powered off`.
        public var how: String
        public init(memberId: String, how: String) {
            self.memberId = memberId
            self.how = how
        }
    }

    /// The failover decision, with every refusal of the others.
    public struct Election: Codable, Sendable, Equatable {
        public var memberId: String
        public var refusals: [String]
        public init(memberId: String, refusals: [String]) {
            self.memberId = memberId
            self.refusals = refusals
        }
    }

    /// One member.
    public struct MemberRef: Codable, Sendable, Equatable {
        public var memberId: String
        public init(memberId: String) { self.memberId = memberId }
    }

    /// How a cluster's load balancer spreads new connections.
    public enum BalancerAlgorithm: String, Codable, Sendable, CaseIterable {
        /// Each new connection to the next member in turn.
        case roundrobin
        /// Each new connection to the member with the fewest open ones.
        case leastconn
    }

    /// The load balancer as configured.
    public struct Balancer: Codable, Sendable, Equatable {
        /// The cluster's own address (the API's cluster `ip`).
        public var address: String
        /// The algorithm.
        public var algorithm: BalancerAlgorithm
        /// The members it sends to, by instance id.
        public var memberIds: [String]

        /// Creates a balancer record.
        public init(address: String, algorithm: BalancerAlgorithm, memberIds: [String]) {
            self.address = address
            self.algorithm = algorithm
            self.memberIds = memberIds
        }
    }

    /// A new balancing algorithm.
    public struct BalancerChange: Codable, Sendable, Equatable {
        /// The algorithm to use from now on.
        public var algorithm: BalancerAlgorithm
        /// Creates a change.
        public init(algorithm: BalancerAlgorithm) { self.algorithm = algorithm }
    }

    /// The cluster as created.
    public struct Spec: Codable, Sendable, Equatable {
        /// The cluster id.
        public var id: String
        /// The owning project.
        public var projectId: String
        /// The display name.
        public var name: String
        /// The datastore and version.
        public var datastore: Datastore
        /// The members.
        public var members: [Member]
        /// The configuration group of every member.
        public var configurationId: String?
        /// The load balancer's algorithm (`extended_properties`); nil in older events: round robin.
        public var algorithm: BalancerAlgorithm?
        /// The placement policy asked for (`affinity`, `anti-affinity`), shown as given.
        public var locality: String?
        /// Active-passive: commits wait for a standby (nil: asynchronous).
        public var synchronous: Bool?
        /// When the request was accepted (`created`).
        public var createdAt: Date

        /// Creates a spec.
        public init(
            id: String, projectId: String, name: String, datastore: Datastore, members: [Member],
            configurationId: String?, algorithm: BalancerAlgorithm? = nil, locality: String? = nil, synchronous: Bool? = nil,
            createdAt: Date
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
            self.createdAt = createdAt
        }
    }

    /// Members added by a grow.
    public struct Members: Codable, Sendable, Equatable {
        /// The new members.
        public var members: [Member]
        /// Creates the list.
        public init(members: [Member]) { self.members = members }
    }

    /// Members removed by a shrink.
    public struct MemberIds: Codable, Sendable, Equatable {
        /// The leaving members' instance ids.
        public var memberIds: [String]
        /// Creates the list.
        public init(memberIds: [String]) { self.memberIds = memberIds }
    }

    /// A datastore version to upgrade to.
    public struct VersionChange: Codable, Sendable, Equatable {
        /// The new datastore version.
        public var datastoreVersion: String
        /// Creates a version change.
        public init(datastoreVersion: String) { self.datastoreVersion = datastoreVersion }
    }

    /// A configuration group to attach, or nil to detach.
    public struct ConfigurationChange: Codable, Sendable, Equatable {
        /// The configuration group id, nil for a detach.
        public var configurationId: String?
        /// Creates a configuration change.
        public init(configurationId: String?) { self.configurationId = configurationId }
    }
}

extension Cluster.Event: EnvelopedEvent {
    /// Every cluster event type, in declaration order.
    public static let eventTypes = [
        "ClusterCreateRequested", "ClusterBecameActive", "ClusterGrowRequested", "ClusterGrown",
        "ClusterShrinkRequested", "ClusterShrunk", "ClusterRestartRequested", "ClusterRestarted",
        "ClusterUpgradeRequested", "ClusterUpgraded", "ClusterConfigurationChangeRequested",
        "ClusterConfigurationChanged", "ClusterFailed", "ClusterStatusReset", "ClusterDeleteRequested",
        "ClusterDeleted", "ClusterBalancerConfigured", "ClusterBalancerChangeRequested", "ClusterWeightsChanged",
        "ClusterFailoverStarted", "ClusterMemberFenced", "ClusterPrimaryElected", "ClusterPrimaryPromoted",
        "ClusterReplicasRepointed", "ClusterFailoverCompleted", "ClusterRejoinRequested", "ClusterMemberRejoined",
        "ClusterRootEnabled", "ClusterMemberRestarting",
    ]

    /// The event type name, e.g. `ClusterCreateRequested`.
    public var eventType: String {
        switch self {
        case .clusterCreateRequested: "ClusterCreateRequested"
        case .clusterBecameActive: "ClusterBecameActive"
        case .clusterGrowRequested: "ClusterGrowRequested"
        case .clusterGrown: "ClusterGrown"
        case .clusterShrinkRequested: "ClusterShrinkRequested"
        case .clusterShrunk: "ClusterShrunk"
        case .clusterRestartRequested: "ClusterRestartRequested"
        case .clusterMemberRestarting: "ClusterMemberRestarting"
        case .clusterRestarted: "ClusterRestarted"
        case .clusterUpgradeRequested: "ClusterUpgradeRequested"
        case .clusterUpgraded: "ClusterUpgraded"
        case .clusterConfigurationChangeRequested: "ClusterConfigurationChangeRequested"
        case .clusterConfigurationChanged: "ClusterConfigurationChanged"
        case .clusterFailed: "ClusterFailed"
        case .clusterStatusReset: "ClusterStatusReset"
        case .clusterDeleteRequested: "ClusterDeleteRequested"
        case .clusterDeleted: "ClusterDeleted"
        case .clusterBalancerConfigured: "ClusterBalancerConfigured"
        case .clusterBalancerChangeRequested: "ClusterBalancerChangeRequested"
        case .clusterWeightsChanged: "ClusterWeightsChanged"
        case .clusterFailoverStarted: "ClusterFailoverStarted"
        case .clusterMemberFenced: "ClusterMemberFenced"
        case .clusterPrimaryElected: "ClusterPrimaryElected"
        case .clusterPrimaryPromoted: "ClusterPrimaryPromoted"
        case .clusterReplicasRepointed: "ClusterReplicasRepointed"
        case .clusterFailoverCompleted: "ClusterFailoverCompleted"
        case .clusterRejoinRequested: "ClusterRejoinRequested"
        case .clusterMemberRejoined: "ClusterMemberRejoined"
        case .clusterRootEnabled: "ClusterRootEnabled"
        }
    }

    var payload: any Encodable & Sendable {
        switch self {
        case .clusterCreateRequested(let spec): spec
        case .clusterGrowRequested(let members): members
        case .clusterShrinkRequested(let ids): ids
        case .clusterUpgradeRequested(let change), .clusterUpgraded(let change): change
        case .clusterConfigurationChangeRequested(let change), .clusterConfigurationChanged(let change): change
        case .clusterFailed(let failure): failure
        case .clusterBalancerConfigured(let balancer): balancer
        case .clusterBalancerChangeRequested(let change): change
        case .clusterWeightsChanged(let weights): weights
        case .clusterFailoverStarted(let start): start
        case .clusterMemberFenced(let fence): fence
        case .clusterPrimaryElected(let election): election
        case .clusterReplicasRepointed(let ids): ids
        case .clusterPrimaryPromoted(let member), .clusterFailoverCompleted(let member), .clusterRejoinRequested(let member),
            .clusterMemberRejoined(let member), .clusterMemberRestarting(let member):
            member
        case .clusterRootEnabled(let grant): grant
        case .clusterBecameActive, .clusterGrown, .clusterShrunk, .clusterRestartRequested, .clusterRestarted,
            .clusterStatusReset, .clusterDeleteRequested, .clusterDeleted:
            NoPayload()
        }
    }

    static func decode(eventType: String, from source: some EventPayloadSource) throws -> Self {
        switch eventType {
        case "ClusterCreateRequested": .clusterCreateRequested(try source.decode(Cluster.Spec.self))
        case "ClusterBecameActive": .clusterBecameActive
        case "ClusterGrowRequested": .clusterGrowRequested(try source.decode(Cluster.Members.self))
        case "ClusterGrown": .clusterGrown
        case "ClusterShrinkRequested": .clusterShrinkRequested(try source.decode(Cluster.MemberIds.self))
        case "ClusterShrunk": .clusterShrunk
        case "ClusterRestartRequested": .clusterRestartRequested
        case "ClusterMemberRestarting": .clusterMemberRestarting(try source.decode(Cluster.MemberRef.self))
        case "ClusterRestarted": .clusterRestarted
        case "ClusterUpgradeRequested": .clusterUpgradeRequested(try source.decode(Cluster.VersionChange.self))
        case "ClusterUpgraded": .clusterUpgraded(try source.decode(Cluster.VersionChange.self))
        case "ClusterConfigurationChangeRequested":
            .clusterConfigurationChangeRequested(try source.decode(Cluster.ConfigurationChange.self))
        case "ClusterConfigurationChanged":
            .clusterConfigurationChanged(try source.decode(Cluster.ConfigurationChange.self))
        case "ClusterFailed": .clusterFailed(try source.decode(Failure.self))
        case "ClusterStatusReset": .clusterStatusReset
        case "ClusterDeleteRequested": .clusterDeleteRequested
        case "ClusterDeleted": .clusterDeleted
        case "ClusterBalancerConfigured": .clusterBalancerConfigured(try source.decode(Cluster.Balancer.self))
        case "ClusterBalancerChangeRequested": .clusterBalancerChangeRequested(try source.decode(Cluster.BalancerChange.self))
        case "ClusterWeightsChanged": .clusterWeightsChanged(try source.decode(Cluster.Weights.self))
        case "ClusterFailoverStarted": .clusterFailoverStarted(try source.decode(Cluster.FailoverStart.self))
        case "ClusterMemberFenced": .clusterMemberFenced(try source.decode(Cluster.Fence.self))
        case "ClusterPrimaryElected": .clusterPrimaryElected(try source.decode(Cluster.Election.self))
        case "ClusterPrimaryPromoted": .clusterPrimaryPromoted(try source.decode(Cluster.MemberRef.self))
        case "ClusterReplicasRepointed": .clusterReplicasRepointed(try source.decode(Cluster.MemberIds.self))
        case "ClusterFailoverCompleted": .clusterFailoverCompleted(try source.decode(Cluster.MemberRef.self))
        case "ClusterRejoinRequested": .clusterRejoinRequested(try source.decode(Cluster.MemberRef.self))
        case "ClusterMemberRejoined": .clusterMemberRejoined(try source.decode(Cluster.MemberRef.self))
        case "ClusterRootEnabled": .clusterRootEnabled(try source.decode(Cluster.RootGrant.self))
        default: throw UnknownEventType(aggregate: "Cluster", eventType: eventType)
        }
    }

    /// Decodes `{"type": ..., "data": {...}}`.
    public init(from decoder: any Decoder) throws {
        self = try Self.decodedEnvelope(from: decoder)
    }

    /// Encodes `{"type": ..., "data": {...}}`.
    public func encode(to encoder: any Encoder) throws {
        try encodedEnvelope(to: encoder)
    }
}
