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
        /// When the request was accepted (`created`).
        public var createdAt: Date

        /// Creates a spec.
        public init(
            id: String, projectId: String, name: String, datastore: Datastore, members: [Member],
            configurationId: String?, algorithm: BalancerAlgorithm? = nil, locality: String? = nil, createdAt: Date
        ) {
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
        "ClusterDeleted", "ClusterBalancerConfigured", "ClusterBalancerChangeRequested",
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
