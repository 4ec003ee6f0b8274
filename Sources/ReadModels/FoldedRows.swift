import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// What the `instances` and `clusters` projections share: each row keeps its aggregate's folded state (`state`),
/// and an event is applied by the aggregate's own `evolve`.
enum FoldedRows {
    /// The domain event of `event`, or nil for one to skip: a newer type this version does not know (replay stays
    /// possible), or a stored event it cannot read (logged; it must not stop the read model for everyone else).
    static func decode<Event: DomainEvent>(_ event: RecordedEvent, as type: Event.Type, logger: Logger) -> Event? {
        do {
            return try Event.decode(eventType: event.type, data: event.data)
        } catch is UnknownEventType {
            return nil
        } catch {
            logger.error(
                "skipping an unreadable event",
                metadata: [
                    "position": "\(event.globalPosition)", "stream": "\(event.streamID)", "type": "\(event.type)", "error": "\(error)",
                ])
            return nil
        }
    }

    /// The state stored in `table`'s row `id`, or `empty` when there is none yet.
    static func state<State: Decodable>(
        of id: String, in table: String, empty: State, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> State {
        try await states(of: [id], in: table, as: State.self, on: connection, logger: logger)[id] ?? empty
    }

    /// The states stored in `table` for these ids (ids without a row are missing from the answer).
    static func states<State: Decodable>(
        of ids: Set<String>, in table: String, as type: State.Type, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [String: State] {
        let rows = try await connection.guardedQuery(
            "SELECT id, state::text FROM \(unescaped: table) WHERE id = ANY(\(Array(ids)))", logger: logger)
        var states: [String: State] = [:]
        for try await (id, stored) in rows.decode((String, String).self) {
            states[id] = try EventJSON.decoder().decode(State.self, from: Data(stored.utf8))
        }
        return states
    }
}

/// The folded states a rebuild has written, kept so its batches need not read them back: the table was emptied
/// in the rebuild's transaction, so an id it never wrote has no row. Past `capacity` states it lets them go and
/// reads those back like a live batch.
struct RebuildStates<State: Decodable & Sendable>: Sendable {
    let table: String
    let capacity: Int
    private var held: [String: State] = [:]
    private var released: Set<String> = []

    init(table: String, capacity: Int) {
        self.table = table
        self.capacity = capacity
    }

    /// Whether some of these ids' states must be read back from their rows.
    func mustRead(_ ids: Set<String>) -> Bool {
        !released.isEmpty && ids.contains { held[$0] == nil && released.contains($0) }
    }

    /// The states of these ids, as their rows hold them (ids without a row are missing from the answer).
    func states(of ids: Set<String>, on connection: PostgresConnection, logger: Logger) async throws -> [String: State] {
        var found: [String: State] = [:]
        var stored: Set<String> = []
        for id in ids {
            if let state = held[id] { found[id] = state } else if released.contains(id) { stored.insert(id) }
        }
        guard !stored.isEmpty else { return found }
        return try await found.merging(FoldedRows.states(of: stored, in: table, as: State.self, on: connection, logger: logger)) { $1 }
    }

    /// Remembers the states just written.
    mutating func keep(_ written: [String: State]) {
        if held.count + written.count > capacity {
            released.formUnion(held.keys)
            held.removeAll()
        }
        held.merge(written) { $1 }
    }
}
