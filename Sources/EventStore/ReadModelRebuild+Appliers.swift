import Lifecycle
import Logging
import PostgresNIO

extension ReadModelRebuild {
    /// The projections' appliers, each taking the batches in turn on its own connection, at its own pace: a slow
    /// one does not hold back the others' next batch, and none falls more than `lag` batches behind the read.
    struct Appliers {
        let appliers: [any RebuildApplier]
        let connections: [PostgresConnection]
        let logger: Logger
        let lag = 4
        /// Each applier's last batch; it waits for the one before, and returns the seconds applied so far.
        private var latest: [Task<Double, any Error>?]
        /// The batches in flight, oldest first: every applier's task for each.
        private var inFlight: [[Task<Double, any Error>]] = []

        init(_ appliers: [any RebuildApplier], on connections: [PostgresConnection], logger: Logger) {
            self.appliers = appliers
            self.connections = connections
            self.logger = logger
            latest = appliers.map { _ in nil }
        }

        mutating func enqueue(_ batch: RebuildBatch) async throws {
            if inFlight.count >= lag {
                for task in inFlight.removeFirst() { _ = try await task.value }
            }
            let logger = self.logger
            for index in appliers.indices {
                let (applier, connection, previous) = (appliers[index], connections[index], latest[index])
                latest[index] = Task {
                    let before = try await previous?.value ?? 0
                    let started = ContinuousClock.now
                    try await applier.apply(batch, on: connection, logger: logger)
                    return before + (ContinuousClock.now - started).seconds
                }
            }
            inFlight.append(latest.compactMap { $0 })
        }

        /// Waits for every batch to be applied and written; returns the seconds each applier spent.
        func finish() async throws -> [Double] {
            var seconds: [Double] = []
            for (index, task) in latest.enumerated() {
                let applied = try await task?.value ?? 0
                let started = ContinuousClock.now
                try await appliers[index].finish(on: connections[index], logger: logger)
                seconds.append(applied + (ContinuousClock.now - started).seconds)
            }
            return seconds
        }

        /// Waits for what is still running (the connections are about to roll back), whatever its outcome.
        func abandon() async {
            for (index, task) in latest.enumerated() {
                _ = try? await task?.value
                try? await appliers[index].finish(on: connections[index], logger: logger)
            }
        }
    }

}
