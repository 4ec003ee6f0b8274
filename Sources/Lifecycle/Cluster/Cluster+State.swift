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
