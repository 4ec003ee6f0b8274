import Lifecycle
import Logging
import PostgresNIO

/// Rebuilds read models from zero in one pass over the log: every batch read is handed to every projection.
///
/// The whole rebuild is one transaction: readers keep seeing the previous read models until it commits (the tables
/// are emptied with DELETE, not TRUNCATE, which would block them), and a failure leaves them as they were. The live
/// runners of these projections wait on their locks meanwhile. A second connection reads the next batch while the
/// projections apply the current one.
public struct ReadModelRebuild: Sendable {
    let store: PostgresEventStore
    let projections: [any Projection]
    let batchSize: Int

    public init(store: PostgresEventStore, projections: [any Projection], batchSize: Int = 5000) {
        self.store = store
        self.projections = projections
        self.batchSize = batchSize
    }

    /// What a rebuild did and where its time went.
    public struct Report: Sendable {
        /// Where every checkpoint now stands (`.start` for an empty log).
        public var position = LogPosition.start
        public var events = 0
        /// Seconds spent waiting for the log's next batch (the read the applying did not hide).
        public var readWait = 0.0
        /// Seconds each projection spent applying, in the order given.
        public var applied: [(name: String, seconds: Double)] = []
    }

    /// Empties the projections' tables and checkpoints, replays the log into them and commits. Events committed
    /// meanwhile are left to the live runners.
    ///
    /// Its transaction holds back the gap-safe read fence of every other log reader until it commits.
    @discardableResult
    public func run() async throws -> Report {
        let (store, projections, batchSize, logger) = (store, projections, batchSize, store.logger)
        return try await store.client.withGuardedTransaction(logger: logger) { connection in
            try await Self.empty(projections, on: connection, logger: logger)
            var appliers = projections.map { $0.rebuildApplier() }
            var report = Report(applied: projections.map { ($0.name, 0) })
            let clock = ContinuousClock()
            var waited = clock.now
            let last = try await store.client.withConnection { reader in
                try await Self.readAhead(on: reader, batchSize: batchSize, logger: logger) { batch in
                    report.readWait += (clock.now - waited).seconds
                    report.events += batch.count
                    for index in appliers.indices {
                        let started = clock.now
                        try await appliers[index].apply(batch: batch, on: connection, logger: logger)
                        report.applied[index].seconds += (clock.now - started).seconds
                    }
                    waited = clock.now
                }
            }
            guard let last else { return report }
            for projection in projections {
                try await PostgresEventStore.saveCheckpoint(last, named: projection.name, on: connection, logger: logger)
            }
            report.position = last
            return report
        }
    }

    /// Locks out the projections' live runners (in name order, so two rebuilds cannot deadlock) and deletes their
    /// rows and checkpoints.
    private static func empty(_ projections: [any Projection], on connection: PostgresConnection, logger: Logger) async throws {
        for projection in projections.sorted(by: { $0.name < $1.name }) {
            try await ProjectionRunner.lock(projection, on: connection, logger: logger)
        }
        for table in projections.flatMap(\.tables) {
            try await connection.guardedQuery("DELETE FROM \(unescaped: table)", logger: logger)
        }
        try await connection.guardedQuery("DELETE FROM projection_checkpoints WHERE name = ANY(\(projections.map(\.name)))", logger: logger)
    }

    /// Reads the log gap-safe in batches on `reader`, the next batch while `body` takes the current one; returns the
    /// last event's position. The fence is the snapshot's xmin as in `readAll`: the rebuild's own transaction is
    /// running, so events of transactions that start after it are never read here.
    private static func readAhead(on reader: PostgresConnection, batchSize: Int, logger: Logger,
                                  _ body: ([RecordedEvent]) async throws -> Void) async throws -> LogPosition? {
        @Sendable func read(after position: LogPosition) async throws -> [RecordedEvent] {
            try await PostgresEventStore.readAll(after: position, limit: batchSize, on: reader, logger: logger)
        }
        var next = Task { try await read(after: .start) }
        var last: LogPosition?
        while true {
            let batch = try await next.value
            guard let end = batch.last?.logPosition else { return last }
            last = end
            guard batch.count == batchSize else {
                try await body(batch)
                return last
            }
            next = Task { try await read(after: end) }
            do {
                try await body(batch)
            } catch {
                // The read must be over before `reader` goes back to its pool.
                _ = try? await next.value
                throw error
            }
        }
    }
}
