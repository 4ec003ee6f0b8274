import Foundation

extension Backup {
    /// What is known about a backup after folding its events.
    public struct State: AggregateState {
        /// The current leaf of `backup.scxml`.
        public var leaf: String
        /// The Trove backup status (NEW, BUILDING, SAVING, COMPLETED, FAILED, RESTORED, DELETE_FAILED); while
        /// deleting, the status shown before, as Trove does.
        public var status: String
        /// The number of events applied.
        public var version = 0
        /// Event types applied where the chart did not accept them (the leaf was kept).
        public var unacceptedEvents: [String] = []
        /// The backup id ("" before it is created).
        public var id = ""
        /// The owning project.
        public var projectId = ""
        /// The display name.
        public var name = ""
        /// The description.
        public var description: String?
        /// The instance backed up.
        public var instanceId: String?
        /// The parent of an incremental backup.
        public var parentId: String?
        /// Whether it is incremental.
        public var incremental = false
        /// The datastore and version.
        public var datastore: Datastore?
        /// Where the artifact is stored (`locationRef`).
        public var locationRef: String?
        /// The artifact's size in GB.
        public var size: Double?
        /// The artifact's checksum.
        public var checksum: String?
        /// Its objects and sealed key, once Cellar stored it.
        public var stored: Stored?
        /// Why the backup or its deletion failed.
        public var failure: Failure?
        /// When it was requested.
        public var createdAt: Date?

        /// A stream with no events: at the chart's initial leaf.
        public init(chart: Statechart) {
            leaf = chart.initialLeaf
            status = chart.status(of: chart.initialLeaf) ?? ""
        }

        /// `Backup 8f3c...`, or `Backup` before it exists.
        public var subject: String { id.isEmpty ? "Backup" : "Backup \(id)" }

        /// Whether the backup still runs (NEW, BUILDING, SAVING): its instance shows BACKUP meanwhile.
        public var isRunning: Bool { ["NEW", "BUILDING", "SAVING"].contains(status) && version > 0 }
    }
}
