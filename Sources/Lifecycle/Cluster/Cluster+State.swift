import Foundation

extension Cluster {
    /// What is known about a cluster after folding its events.
    public struct State: AggregateState {
        /// The current leaf of `cluster.scxml`.
        public var leaf: String
        /// The Trove cluster task name (NONE, BUILDING, GROWING_CLUSTER, ...).
        public var status: String
        /// The number of events applied.
        public var version = 0
        /// Event types applied where the chart did not accept them (the leaf was kept).
        public var unacceptedEvents: [String] = []
        /// The cluster id ("" before it is created).
        public var id = ""
        /// The owning project.
        public var projectId = ""
        /// The display name.
        public var name = ""
        /// The datastore and its current version.
        public var datastore: Datastore?
        /// The members, including those still building after a grow and those leaving during a shrink.
        public var members: [Member] = []
        /// Members being removed by a running shrink.
        public var leavingMemberIds: [String] = []
        /// The member a rolling restart asked to restart last (nil outside one).
        public var restartingMemberId: String?
        /// The attached configuration group.
        public var configurationId: String?
        /// The datastore version being upgraded to.
        public var pendingDatastoreVersion: String?
        /// Why the last task failed, until the cluster recovers.
        public var failure: Failure?
        /// The placement policy asked for at create.
        public var locality: String?
        /// The load balancer's algorithm as chosen (nil: never chosen, round robin).
        public var chosenAlgorithm: BalancerAlgorithm?
        /// The load balancer's algorithm.
        public var algorithm: BalancerAlgorithm { chosenAlgorithm ?? .roundrobin }
        /// The load balancer as last configured (nil until it first runs).
        public var balancer: Balancer?
        /// When the cluster was created.
        public var createdAt: Date?
        /// Active-passive: commits wait for a standby (nil in states stored before there were replicas: no).
        public var synchronousCommits: Bool?
        /// Active-passive: commits wait for a standby.
        public var synchronous: Bool { synchronousCommits ?? false }
        /// Active-passive: the member promoted last (nil: the first member, the primary it was built with).
        public var promotedPrimaryId: String?
        /// Active-passive: the member that takes writes.
        public var primaryId: String? { promotedPrimaryId ?? members.first?.id }
        /// Members fenced by a failover, not yet replicas again (nil: none).
        public var fenced: [String]?
        /// Members fenced by a failover, not yet replicas again: never writable on their own.
        public var fencedMemberIds: [String] {
            get { fenced ?? [] }
            set { fenced = newValue.isEmpty ? nil : newValue }
        }
        /// The running failover: the lost primary, and the member elected (once decided).
        public var failover: FailoverProgress?
        /// Root was enabled through the cluster (`GET /clusters/{id}/root`; nil: never).
        public var rootEnabled: Bool?

        /// A failover under way.
        public struct FailoverProgress: Codable, Sendable, Equatable {
            public var lostPrimaryId: String
            public var electedId: String?
        }

        /// How the cluster works (nil before it exists, or for a datastore without clusters).
        public var strategy: ClusterStrategy? { datastore.flatMap { Datastores.descriptor(of: $0)?.clusterStrategy } }

        /// Active-passive: a member's role (`primary`, `replica`, or `fenced`).
        public func role(of memberId: String) -> String {
            if fencedMemberIds.contains(memberId) { return "fenced" }
            return memberId == primaryId ? "primary" : "replica"
        }

        /// Active-passive: the members that replicate from the primary (not fenced).
        public var replicaIds: [String] {
            members.map(\.id).filter { $0 != primaryId && !fencedMemberIds.contains($0) }
        }

        /// A stream with no events: at the chart's initial leaf.
        public init(chart: Statechart) {
            leaf = chart.initialLeaf
            status = chart.status(of: chart.initialLeaf) ?? ""
        }

        /// `Cluster 8f3c...`, or `Cluster` before it exists.
        public var subject: String { id.isEmpty ? "Cluster" : "Cluster \(id)" }

        /// The Trove `task` shown for the cluster (`{"id": 2, "name": "BUILDING", ...}`).
        public var task: Task {
            Task.named(status) ?? Task(id: 0, name: status, description: "Unknown cluster task.")
        }
    }
}
