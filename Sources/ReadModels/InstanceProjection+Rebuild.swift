import EventStore
import Lifecycle
import Logging
import PostgresNIO

extension InstanceProjection {
    /// In a rebuild, the states earlier batches wrote come from memory rather than from their rows, and a batch is
    /// folded while the previous one's rows are being written.
    public func rebuildApplier() -> any RebuildApplier {
        Rebuild(projection: self, states: RebuildStates(table: "instances", capacity: rebuildMemory))
    }

    actor Rebuild: RebuildApplier {
        let projection: InstanceProjection
        var states: RebuildStates<Instance.State>
        /// The previous batch's statements, still running.
        var writing: Task<Void, any Error>?

        init(projection: InstanceProjection, states: RebuildStates<Instance.State>) {
            self.projection = projection
            self.states = states
        }

        func apply(_ batch: RebuildBatch, on connection: PostgresConnection, logger: Logger) async throws {
            let mine = batch.events.filter { $0.category == "instance" }
            guard !mine.isEmpty else { return }
            let ids = Set(mine.map(InstanceProjection.id))
            // States it no longer holds are read back from rows that must be written first.
            if states.mustRead(ids) { try await finish(on: connection, logger: logger) }
            let held = try await states.states(of: ids, on: connection, logger: logger)
            let (statements, written) = try projection.fold(mine, onto: held, logger: logger)
            states.keep(written)
            let previous = writing
            writing = Task {
                try await previous?.value
                for statement in statements { try await connection.guardedQuery(statement, logger: logger) }
            }
        }

        func finish(on connection: PostgresConnection, logger: Logger) async throws {
            let last = writing
            writing = nil
            try await last?.value
        }
    }
}
