extension Cluster {
    /// Trove's cluster `task` (`trove/cluster/tasks.py`), shown as `{"id", "name", "description"}`.
    public struct Task: Sendable, Equatable, Codable {
        /// The integer code shown as `task.id`.
        public let id: Int
        /// The task name, e.g. `BUILDING`.
        public let name: String
        /// The task description.
        public let description: String

        /// Creates a task.
        public init(id: Int, name: String, description: String) {
            self.id = id
            self.name = name
            self.description = description
        }

        /// Every Trove cluster task.
        public static let all = [
            Task(id: 0x01, name: "NONE", description: "No tasks for the cluster."),
            Task(id: 0x02, name: "BUILDING", description: "Building the initial cluster."),
            Task(id: 0x03, name: "DELETING", description: "Deleting the cluster."),
            Task(id: 0x04, name: "ADDING_SHARD", description: "Adding a shard to the cluster."),
            Task(id: 0x05, name: "GROWING_CLUSTER", description: "Increasing the size of the cluster."),
            Task(id: 0x06, name: "SHRINKING_CLUSTER", description: "Decreasing the size of the cluster."),
            Task(id: 0x07, name: "UPGRADING_CLUSTER", description: "Upgrading the cluster to new version."),
            Task(id: 0x08, name: "RESTARTING_CLUSTER", description: "Restarting the cluster."),
            Task(id: 0x09, name: "UPDATING_CLUSTER", description: "Updating the cluster."),
            // Not a Trove task: Trove has no automatic failover.
            Task(id: 0x0A, name: "FAILING_OVER", description: "Promoting a replica after the primary was lost."),
        ]

        /// The task with this name, if Trove has one.
        public static func named(_ name: String) -> Task? { all.first { $0.name == name } }
    }
}
