import Logging
import PostgresNIO

/// A read model: tables written only by `apply`, rebuilt from zero by replaying the log.
public protocol Projection: Sendable {
    /// Unique name; keys the checkpoint row.
    var name: String { get }
    /// The tables it owns; emptied by `ReadModelRebuild`.
    var tables: [String] { get }
    /// The stream categories whose events it reads; nil (the default) for every category. A rebuild hands it
    /// only those (and reads no other events from the log); a live runner hands it every event, and it skips the
    /// others.
    var categories: Set<String>? { get }
    /// Applies one event inside the runner's transaction. Must be deterministic (the same log gives the same rows).
    func apply(_ event: RecordedEvent, on connection: PostgresConnection, logger: Logger) async throws
    /// Applies a batch of events, in log order, inside the runner's transaction: the same rows as applying each in
    /// turn. By default one `apply` each; a projection may do the whole batch in a few statements.
    func apply(batch events: [RecordedEvent], on connection: PostgresConnection, logger: Logger) async throws
    /// What applies the batches of one `ReadModelRebuild`. By default `apply(batch:)`; a projection may keep in
    /// memory what it wrote, since its tables were emptied in the same transaction (the rows must stay the same).
    func rebuildApplier() -> any RebuildApplier
}

/// Applies the batches of one rebuild, one at a time and in log order, inside the transaction that emptied the
/// projection's tables. One that keeps state across batches is an actor.
public protocol RebuildApplier: Sendable {
    func apply(_ batch: RebuildBatch, on connection: PostgresConnection, logger: Logger) async throws
    /// Returns once every write of the batches applied so far is done (an applier may still be writing one when
    /// `apply` returns). Called after the last batch, and before rolling back after a failure.
    func finish(on connection: PostgresConnection, logger: Logger) async throws
}

extension Projection {
    public func apply(batch events: [RecordedEvent], on connection: PostgresConnection, logger: Logger) async throws {
        for event in events { try await apply(event, on: connection, logger: logger) }
    }

    public var categories: Set<String>? { nil }

    public func rebuildApplier() -> any RebuildApplier { BatchesApplied(projection: self) }
}

/// One batch of a rebuild: a range of the log, and its events of the categories the rebuild's projections read.
public struct RebuildBatch: Sendable {
    /// The range's events of the projections' categories, in log order.
    public var events: [RecordedEvent]
    /// The range covered: after `after`, through `through` (events of other categories lie in it too).
    public var after: LogPosition
    public var through: LogPosition
}

/// A rebuild that applies each batch as a live runner would.
struct BatchesApplied: RebuildApplier {
    let projection: any Projection

    func apply(_ batch: RebuildBatch, on connection: PostgresConnection, logger: Logger) async throws {
        try await projection.apply(batch: batch.events, on: connection, logger: logger)
    }

    func finish(on connection: PostgresConnection, logger: Logger) async throws {}
}

/// Feeds a projection from the log, gap-safe, with its checkpoint written in the same transaction as its rows.
public struct ProjectionRunner: Sendable {
    let store: PostgresEventStore
    let projection: any Projection
    let batchSize: Int

    public init(store: PostgresEventStore, projection: any Projection, batchSize: Int = 500) {
        self.store = store
        self.projection = projection
        self.batchSize = batchSize
    }

    /// Applies every event currently readable; returns how many were applied.
    @discardableResult
    public func catchUp() async throws -> Int {
        var total = 0
        while true {
            let applied = try await applyNextBatch()
            total += applied
            if applied < batchSize { return total }
        }
    }

    /// Keeps the projection current until the task is cancelled; `afterApplying` runs after each catch-up
    /// that applied something (to wake long polls).
    public func run(pollInterval: Duration = .milliseconds(250), afterApplying: @Sendable () -> Void = {}) async throws {
        try await store.whileListening(pollInterval: pollInterval) { waitForAppend in
            while !Task.isCancelled {
                if try await catchUp() == 0 {
                    await waitForAppend()
                } else {
                    afterApplying()
                }
            }
        }
    }

    /// Where the projection stands in the log.
    public func checkpoint() async throws -> LogPosition {
        try await store.checkpoint(named: projection.name)
    }

    private func applyNextBatch() async throws -> Int {
        let logger = store.logger
        let projection = self.projection
        let batchSize = self.batchSize
        return try await store.client.withGuardedTransaction(logger: logger) { connection in
            // One runner per projection at a time; an advisory lock assigns no xid, so it does not hold back
            // the read fence of others.
            try await Self.lock(projection, on: connection, logger: logger)
            let position = try await PostgresEventStore.checkpoint(named: projection.name, on: connection, logger: logger)
            let events = try await PostgresEventStore.readAll(after: position, limit: batchSize, on: connection, logger: logger)
            guard let last = events.last else { return 0 }
            try await projection.apply(batch: events, on: connection, logger: logger)
            try await PostgresEventStore.saveCheckpoint(last.logPosition, named: projection.name, on: connection, logger: logger)
            return events.count
        }
    }

    /// Held for the transaction that writes the projection's rows: by its runner, or by a rebuild.
    static func lock(_ projection: any Projection, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.guardedQuery("SELECT pg_advisory_xact_lock(hashtext(\("projection:" + projection.name)))", logger: logger)
    }
}
