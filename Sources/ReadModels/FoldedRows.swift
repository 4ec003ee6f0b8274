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
            logger.error("skipping an unreadable event", metadata: [
                "position": "\(event.globalPosition)", "stream": "\(event.streamID)", "type": "\(event.type)", "error": "\(error)"])
            return nil
        }
    }

    /// The state stored in `table`'s row `id`, or `empty` when there is none yet.
    static func state<State: Decodable>(of id: String, in table: String, empty: State, on connection: PostgresConnection,
                                        logger: Logger) async throws -> State {
        try await states(of: [id], in: table, as: State.self, on: connection, logger: logger)[id] ?? empty
    }

    /// The states stored in `table` for these ids (ids without a row are missing from the answer).
    static func states<State: Decodable>(of ids: Set<String>, in table: String, as type: State.Type, on connection: PostgresConnection,
                                         logger: Logger) async throws -> [String: State] {
        let rows = try await connection.guardedQuery(
            "SELECT id, state::text FROM \(unescaped: table) WHERE id = ANY(\(Array(ids)))", logger: logger)
        var states: [String: State] = [:]
        for try await (id, stored) in rows.decode((String, String).self) {
            states[id] = try EventJSON.decoder().decode(State.self, from: Data(stored.utf8))
        }
        return states
    }
}
