import Lifecycle
import Logging
import PostgresNIO

/// Rebuilds read models from zero in one pass over the log: every batch read is handed to every projection.
/// Only events of the projections' categories are read; a batch also names the range of the log it covers, so a
/// projection that needs only a summary of every event (the stream catalog) reads it in SQL.
///
/// Each projection applies on a connection of its own, in a transaction of its own, at the same time as the others
/// and as the read of the next batch (on one connection, statements run one after another, and a rebuild would wait
/// on each). The transactions commit together after the last batch: until then readers see the previous read
/// models (tables are emptied with DELETE, not TRUNCATE, which would block them) and live runners wait on the
/// projections' locks, and a failure before the end rolls every one back. Each projection's rows and checkpoint
/// commit in one transaction, as a live runner's do.
public struct ReadModelRebuild: Sendable {
    let store: PostgresEventStore
    let projections: [any Projection]
    let batchSize: Int

    /// Batches of 20,000 events: each batch costs every projection a few statements, whatever its size.
    public init(store: PostgresEventStore, projections: [any Projection], batchSize: Int = 20_000) {
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
        /// Seconds each projection spent applying (at the same time as the others), in the order given.
        public var applied: [(name: String, seconds: Double)] = []
    }

    /// Empties the projections' tables and checkpoints, replays the log into them and commits. Events committed
    /// meanwhile are left to the live runners.
    ///
    /// Its transactions hold back the gap-safe read fence of every other log reader until they commit.
    @discardableResult
    public func run() async throws -> Report {
        let (store, projections, batchSize, logger) = (store, projections, batchSize, store.logger)
        return try await Self.withTransactions(projections.count, on: store.client, logger: logger) { connections in
            // Locks are taken in name order, so two rebuilds cannot deadlock.
            for index in projections.indices.sorted(by: { projections[$0].name < projections[$1].name }) {
                try await Self.empty(projections[index], on: connections[index], logger: logger)
            }
            var appliers = Appliers(projections.map { $0.rebuildApplier() }, on: connections, logger: logger)
            var report = Report()
            let clock = ContinuousClock()
            var waited = clock.now
            let categories = Self.categories(of: projections)
            let end: LogPosition?
            do {
                end = try await store.client.withConnection { reader in
                    try await Self.readAhead(on: reader, batchSize: batchSize, categories: categories, logger: logger) { batch in
                        report.readWait += (clock.now - waited).seconds
                        report.events += batch.events.count
                        try await appliers.enqueue(batch)
                        waited = clock.now
                    }
                }
                report.applied = zip(projections, try await appliers.finish()).map { ($0.name, $1) }
            } catch {
                await appliers.abandon()
                throw error
            }
            guard let end else { return report }
            for (projection, connection) in zip(projections, connections) {
                try await PostgresEventStore.saveCheckpoint(end, named: projection.name, on: connection, logger: logger)
            }
            report.position = end
            return report
        }
    }

    /// Runs `body` with `count` connections, each in a transaction: all commit when it returns, all roll back when
    /// it throws.
    private static func withTransactions<T: Sendable>(
        _ count: Int, on client: PostgresClient, logger: Logger,
        _ body: ([PostgresConnection]) async throws -> T
    ) async throws -> T {
        guard count > 0 else { return try await body([]) }
        return try await client.withGuardedTransaction(logger: logger) { connection in
            try await withTransactions(count - 1, on: client, logger: logger) { others in try await body([connection] + others) }
        }
    }

    /// Locks out the projection's live runner and deletes its rows and checkpoint.
    private static func empty(_ projection: any Projection, on connection: PostgresConnection, logger: Logger) async throws {
        try await ProjectionRunner.lock(projection, on: connection, logger: logger)
        for table in projection.tables {
            try await connection.guardedQuery("DELETE FROM \(unescaped: table)", logger: logger)
        }
        try await connection.guardedQuery("DELETE FROM projection_checkpoints WHERE name = \(projection.name)", logger: logger)
    }

    /// The categories whose events some projection reads; nil for all.
    private static func categories(of projections: [any Projection]) -> [String]? {
        var categories: Set<String> = []
        for projection in projections {
            guard let theirs = projection.categories else { return nil }
            categories.formUnion(theirs)
        }
        return categories.sorted()
    }

    /// Reads the log up to its end now in batches on `reader`, the next batch while `body` takes the current one;
    /// returns that end (nil for an empty log). Only events of `categories` (nil: all) are read; each batch
    /// names the range it covers, so a projection may read the rest of it itself.
    ///
    /// The end is the last event of a transaction older than every one still running (the snapshot's xmin, as in
    /// `readAll`); every event up to it is committed, and a transaction that commits later is ordered after it.
    private static func readAhead(
        on reader: PostgresConnection, batchSize: Int, categories: [String]?, logger: Logger,
        _ body: (RebuildBatch) async throws -> Void
    ) async throws -> LogPosition? {
        guard let end = try await committedEnd(on: reader, logger: logger) else { return nil }
        @Sendable func read(after position: LogPosition) async throws -> RebuildBatch {
            let events = try await PostgresEventStore.collect(
                reader.guardedQuery(rangeQuery(after: position, through: end, categories: categories, limit: batchSize), logger: logger))
            let through = events.count == batchSize ? events.last?.logPosition ?? end : end
            return RebuildBatch(events: events, after: position, through: through)
        }
        var next = Task { try await read(after: .start) }
        while true {
            let batch = try await next.value
            guard batch.through < end else {
                try await body(batch)
                return end
            }
            next = Task { try await read(after: batch.through) }
            do {
                try await body(batch)
            } catch {
                // The read must be over before `reader` goes back to its pool.
                _ = try? await next.value
                throw error
            }
        }
    }

    /// The position of the last event whose transaction is older than every running one.
    private static func committedEnd(on reader: PostgresConnection, logger: Logger) async throws -> LogPosition? {
        let rows = try await reader.guardedQuery(
            """
            SELECT tx_id::text, global_position FROM events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY tx_id DESC, global_position DESC LIMIT 1
            """, logger: logger)
        for try await (transaction, position) in rows.decode((String, Int64).self) {
            guard let transactionID = Int64(transaction) else { break }
            return LogPosition(transactionID: transactionID, globalPosition: position)
        }
        return nil
    }

    /// Events after `after` through `through`, of `categories` (nil: all), in log order, at most `limit`.
    private static func rangeQuery(after: LogPosition, through: LogPosition, categories: [String]?, limit: Int) -> PostgresQuery {
        // Prefix patterns, not `split_part`: the planner estimates them from the column's statistics, so it reads
        // the index in log order up to the limit rather than sorting the whole range for each batch.
        let prefixes = categories.map { $0.map { $0 + "-%" } } ?? ["%"]
        return """
            SELECT \(unescaped: PostgresEventStore.recordedColumns) FROM events
            WHERE (tx_id, global_position) > (\(String(after.transactionID))::xid8, \(after.globalPosition))
              AND (tx_id, global_position) <= (\(String(through.transactionID))::xid8, \(through.globalPosition))
              AND stream_id LIKE ANY(\(prefixes))
            ORDER BY tx_id, global_position LIMIT \(limit)
            """
    }
}
