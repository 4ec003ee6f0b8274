import Foundation
import Lifecycle
import Logging

/// Commands from Cellar's own services (task manager, conductor) on an aggregate's stream: fold, decide,
/// append with the expected version; when another writer got there first, decide again on the new state.
public struct AggregateRepository<A: Aggregate>: Sendable {
    /// The stream prefix, e.g. `instance` for `instance-<id>`.
    public let category: String
    let store: PostgresEventStore
    let chart: Statechart

    /// A repository for streams `<category>-<id>`.
    public init(category: String, store: PostgresEventStore, chart: Statechart) {
        self.category = category
        self.store = store
        self.chart = chart
    }

    /// The folded state of `id` and its decoded events (unknown event types are skipped).
    public func load(_ id: String) async throws -> (state: A.State, events: [A.Event]) {
        let recorded = try await store.readStream("\(category)-\(id)")
        let events = recorded.compactMap { try? A.Event.decode(eventType: $0.type, data: $0.data) }
        var state = A.replay(events, chart: chart)
        state.version = recorded.last?.streamVersion ?? 0
        return (state, events)
    }

    /// Runs `command` on `id` as `metadata` says; returns the appended events (none when the command decided
    /// nothing). Rejections of the chart or the aggregate are thrown as `Rejection`.
    @discardableResult
    public func execute(_ command: A.Command, on id: String, metadata: EventMetadata, at now: @Sendable () -> Date = { Date() }) async throws -> [RecordedEvent] {
        let metadataJSON = try JSONEncoder().encode(metadata)
        for _ in 1...5 {
            let (state, _) = try await load(id)
            let events = try A.decide(command, state: state, chart: chart, at: now())
            guard !events.isEmpty else { return [] }
            let new = try events.map { NewEvent(type: $0.eventType, data: try $0.encodedData(), metadata: metadataJSON) }
            do {
                let expected: ExpectedVersion = state.version == 0 ? .noStream : .exact(state.version)
                return try await store.append(to: "\(category)-\(id)", expectedVersion: expected, events: new).events
            } catch is WrongExpectedVersion {
                continue
            }
        }
        throw WrongExpectedVersion(streamID: "\(category)-\(id)", expected: .any, actual: -1)
    }
}
