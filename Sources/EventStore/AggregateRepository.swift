import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// Writes that commit in the same transaction as a command's events, or not at all: a quota check, sealed
/// passwords. They run before the append, so a check sees the state without the new events; throwing rolls
/// everything back.
public typealias SameTransactionWrites = @Sendable (_ connection: PostgresConnection) async throws -> Void

/// The one command path of every model kept as events (instances, clusters, configuration groups; the API's,
/// the task manager's and the conductor's commands alike): fold the stream, check, decide, append with the
/// expected version (with the writes that must commit alongside), and when another writer got there first,
/// decide again on the new state.
public struct AggregateRepository<Model: EventSourced>: Sendable {
    /// The stream prefix, e.g. `instance` for `instance-<id>`.
    public let category: String
    let store: PostgresEventStore
    let rules: Model.Rules

    /// A repository for streams `<category>-<id>`.
    public init(category: String, store: PostgresEventStore, rules: Model.Rules) {
        self.category = category
        self.store = store
        self.rules = rules
    }

    /// The folded state of `id` (its version stamped) and its decoded events (unknown event types are skipped).
    public func load(_ id: String) async throws -> (state: Model.State, events: [Model.Event]) {
        let (state, events, _) = try await folded(id)
        return (state, events)
    }

    private func folded(_ id: String) async throws -> (state: Model.State, events: [Model.Event], version: Int) {
        let recorded = try await store.readStream("\(category)-\(id)")
        let events = recorded.compactMap { try? Model.Event.decode(eventType: $0.type, data: $0.data) }
        let state = events.reduce(Model.initialState(rules)) { Model.applying($1, to: $0, rules) }
        let version = recorded.last?.streamVersion ?? 0
        return (Model.stamped(state, version: version), events, version)
    }

    /// Runs `command` on `id` as `metadata` says and returns the appended events (none when the command decided
    /// nothing). `check` sees the state first (a caller's right to it); `alongside` names the writes that must
    /// commit with the events. After `attempts` concurrent writes in a row it throws `WrongExpectedVersion`;
    /// rejections of the chart or the model are thrown as `Rejection`.
    @discardableResult
    public func execute(
        _ command: Model.Command, on id: String, metadata: EventMetadata, attempts: Int = 5,
        at now: @Sendable () -> Date = { Date() },
        check: (Model.State) throws -> Void = { _ in },
        alongside: (Model.State, [Model.Event]) throws -> SameTransactionWrites? = { _, _ in nil }
    ) async throws -> [RecordedEvent] {
        let stream = "\(category)-\(id)"
        let metadataJSON = try JSONEncoder().encode(metadata)
        for _ in 1...max(1, attempts) {
            let (state, _, version) = try await folded(id)
            try check(state)
            let events = try Model.deciding(command, on: state, rules, at: now())
            guard !events.isEmpty else { return [] }
            let new = try events.map { NewEvent(type: $0.eventType, data: try $0.encodedData(), metadata: metadataJSON) }
            let expected: ExpectedVersion = version == 0 ? .noStream : .exact(version)
            do {
                guard let writes = try alongside(state, events) else {
                    return try await store.append(to: stream, expectedVersion: expected, events: new).events
                }
                let (store, logger) = (self.store, self.store.logger)
                return try await store.client.withGuardedTransaction(logger: logger) { connection in
                    try await writes(connection)  // first: a quota counts what is there before these events
                    return try await store.append(to: stream, expectedVersion: expected, events: new, on: connection).events
                }
            } catch is WrongExpectedVersion {
                continue
            }
        }
        throw WrongExpectedVersion(streamID: stream, expected: .any, actual: -1)
    }
}

extension AggregateRepository where Model: Aggregate {
    /// A repository for streams `<category>-<id>` of a statechart-driven aggregate.
    public init(category: String, store: PostgresEventStore, chart: Statechart) {
        self.init(category: category, store: store, rules: chart)
    }
}
