import Foundation
import Logging
import PostgresNIO

/// The append-only event log in PostgreSQL's `events` table.
///
/// Appends go to one stream per transaction (so a stream's events always appear in version order in the log's
/// read order); several events per append are written with one statement.
public struct PostgresEventStore: Sendable {
    /// Channel on which appends send a wake-up hint (the stream id); never the delivery path.
    public static let notificationChannel = "cellar_events"

    let client: PostgresClient
    let logger: Logger
    /// Whether appends NOTIFY subscribers. NOTIFY takes a global lock at commit; `cellar bench append` measures it.
    public var notifiesSubscribers: Bool

    /// Uses a running `PostgresClient` (its `run()` must be running).
    public init(client: PostgresClient, logger: Logger, notifiesSubscribers: Bool = true) {
        self.client = client
        self.logger = logger
        self.notifiesSubscribers = notifiesSubscribers
    }

    /// Appends `events` to `stream` if its version is what `expectedVersion` says; all or nothing.
    ///
    /// - Throws: `WrongExpectedVersion` when another writer got there first (or the stream is not where the
    ///   caller thinks), `InvalidAppend` for an empty batch or stream id.
    public func append(to stream: String, expectedVersion: ExpectedVersion, events: [NewEvent]) async throws -> AppendResult {
        guard !events.isEmpty else { throw InvalidAppend("an append needs at least one event") }
        guard !stream.isEmpty, stream.utf8.count <= 200 else { throw InvalidAppend("stream id must be 1 to 200 bytes") }
        var attempts = 0
        while true {
            attempts += 1
            do {
                return try await appendOnce(to: stream, expectedVersion: expectedVersion, events: events)
            } catch let conflict as WrongExpectedVersion where expectedVersion == .any && attempts < 5 {
                logger.debug("retrying append with expected version any", metadata: ["conflict": "\(conflict)"])
            }
        }
    }

    /// Appends inside the caller's transaction on `connection`, so other writes (an inbox row, a projection)
    /// commit or roll back together with the events. No retry: on `WrongExpectedVersion` the caller rolls back.
    public func append(
        to stream: String, expectedVersion: ExpectedVersion, events: [NewEvent], on connection: PostgresConnection
    ) async throws -> AppendResult {
        guard !events.isEmpty else { throw InvalidAppend("an append needs at least one event") }
        return try await appendOnce(to: stream, expectedVersion: expectedVersion, events: events, on: connection)
    }

    private func appendOnce(
        to stream: String, expectedVersion: ExpectedVersion, events: [NewEvent], on connection: PostgresConnection? = nil
    ) async throws -> AppendResult {
        let expected: Int? =
            switch expectedVersion {
            case .noStream: 0
            case .exact(let version): version
            case .any: nil
            }
        let types = events.map(\.type)
        let data = events.map { String(decoding: $0.data, as: UTF8.self) }
        let metadata = events.map { String(decoding: $0.metadata, as: UTF8.self) }
        let notify = notifiesSubscribers
        let query: PostgresQuery = """
            WITH current AS (
                SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = \(stream)
            ), inserted AS (
                INSERT INTO events (stream_id, stream_version, event_type, data, metadata)
                SELECT \(stream), current.version + e.ordinality, e.event_type, e.data::jsonb, e.metadata::jsonb
                FROM current, unnest(\(types)::text[], \(data)::text[], \(metadata)::text[])
                     WITH ORDINALITY AS e(event_type, data, metadata, ordinality)
                WHERE \(expected)::int IS NULL OR current.version = \(expected)::int
                RETURNING global_position, stream_version, recorded_at, tx_id::text AS tx_id_text
            ), notified AS (
                -- Referenced from the WHERE below: a CTE nothing reads is never run (and a LEFT JOIN to it the
                -- planner removes), which would leave subscribers to their polls.
                SELECT pg_notify(\(Self.notificationChannel), \(stream)) FROM (SELECT 1 FROM inserted LIMIT 1) AS any_row
                WHERE \(notify)
            )
            SELECT inserted.* FROM inserted WHERE (SELECT count(*) FROM notified) >= 0
            ORDER BY stream_version
            """
        // Only the generated columns come back; the payloads are the caller's own bytes (sending them back would
        // double the traffic of a batch).
        var recorded: [RecordedEvent] = []
        do {
            let rows =
                if let connection { try await connection.guardedQuery(query, logger: logger) } else { try await client.query(query, logger: logger) }
            for try await (position, version, recordedAt, transaction) in rows.decode((Int64, Int, Date, String).self) {
                let event = events[recorded.count]
                recorded.append(
                    RecordedEvent(
                        globalPosition: position,
                        logPosition: LogPosition(transactionID: Int64(transaction) ?? 0, globalPosition: position),
                        streamID: stream, streamVersion: version, type: event.type,
                        data: event.data, metadata: event.metadata, recordedAt: recordedAt
                    ))
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            // Another transaction committed the same stream version first. (Inside a caller's transaction the
            // transaction is now aborted, so the actual version is read through the pool.)
            throw WrongExpectedVersion(streamID: stream, expected: expectedVersion, actual: try await version(of: stream))
        }
        guard let last = recorded.last else {
            let actual =
                if let connection { try await Self.version(of: stream, on: connection, logger: logger) } else { try await version(of: stream) }
            throw WrongExpectedVersion(streamID: stream, expected: expectedVersion, actual: actual)
        }
        return AppendResult(streamVersion: last.streamVersion, events: recorded)
    }

    /// The stream's current version; 0 when it has no events.
    public func version(of stream: String) async throws -> Int {
        let logger = self.logger
        return try await client.withConnection { connection in try await Self.version(of: stream, on: connection, logger: logger) }
    }

    static func version(of stream: String, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.guardedQuery(
            "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = \(stream)", logger: logger)
        for try await version in rows.decode(Int.self) { return version }
        return 0
    }

    /// The stream's events from `version` on, in version order.
    public func readStream(_ stream: String, fromVersion version: Int = 1, limit: Int = 10_000) async throws -> [RecordedEvent] {
        try await Self.collect(
            client.query(
                """
                SELECT \(unescaped: Self.recordedColumns) FROM events
                WHERE stream_id = \(stream) AND stream_version >= \(version)
                ORDER BY stream_version LIMIT \(limit)
                """, logger: logger))
    }

    /// Up to `limit` events after `position`, in log order, gap-safe.
    ///
    /// Only rows written by transactions older than every transaction still running are returned, so an event
    /// whose transaction commits late can never be skipped: it is simply returned by a later call.
    public func readAll(after position: LogPosition, limit: Int = 1000) async throws -> [RecordedEvent] {
        try await Self.collect(client.query(Self.readAllQuery(after: position, limit: limit), logger: logger))
    }

    /// The same read as `readAll`, on a given connection (for use inside a transaction).
    static func readAll(after position: LogPosition, limit: Int, on connection: PostgresConnection, logger: Logger) async throws -> [RecordedEvent] {
        try await collect(connection.guardedQuery(readAllQuery(after: position, limit: limit), logger: logger))
    }

    /// Events in the time range, newest last; for history views.
    public func readRecent(limit: Int) async throws -> [RecordedEvent] {
        let events = try await Self.collect(
            client.query(
                """
                SELECT \(unescaped: Self.recordedColumns) FROM events
                ORDER BY events.tx_id DESC, events.global_position DESC LIMIT \(limit)
                """, logger: logger))
        return events.reversed()
    }

    static func readAllQuery(after position: LogPosition, limit: Int) -> PostgresQuery {
        """
        SELECT \(unescaped: recordedColumns) FROM events
        WHERE (tx_id, global_position) > (\(String(position.transactionID))::xid8, \(position.globalPosition))
          AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY events.tx_id, events.global_position
        LIMIT \(limit)
        """
    }

    // The xid8 column is read as text under another name: an output column named `tx_id` would make
    // `ORDER BY tx_id` sort the text ("995" after "1007").
    /// The columns `recordedEvents(from:)` reads, for queries over `events` elsewhere (history, audit).
    public static let recordedColumns =
        "global_position, stream_id, stream_version, event_type, data::text, metadata::text, recorded_at, tx_id::text AS tx_id_text"

    /// Reads rows selected with `recordedColumns` into events.
    public static func recordedEvents(from rows: PostgresRowSequence) async throws -> [RecordedEvent] {
        try await collect(rows)
    }

    static func collect(_ rows: PostgresRowSequence) async throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        for try await row in rows {
            var cells = row.makeIterator()
            events.append(try RecordedEvent(recordedColumns: &cells))
        }
        return events
    }
}

extension RecordedEvent {
    /// An event from the cells of `recordedColumns`, in their order. (Cell by cell: a row decoded as one tuple
    /// looks up the tuple's type metadata for every row, a good part of a whole-log read.)
    init(recordedColumns cells: inout PostgresRow.Iterator) throws {
        func next<Value: PostgresDecodable>(_ type: Value.Type) throws -> Value {
            guard let cell = cells.next() else { throw PostgresDecodingError.Code.missingData }
            return try cell.decode(Value.self)
        }
        let position = try next(Int64.self)
        let (stream, version, type) = (try next(String.self), try next(Int.self), try next(String.self))
        // The payloads are read as text; their bytes are taken as they come (UTF-8).
        let (data, metadata, recordedAt) = (try next(Data.self), try next(Data.self), try next(Date.self))
        let transaction = try next(String.self)
        self.init(
            globalPosition: position, logPosition: LogPosition(transactionID: Int64(transaction) ?? 0, globalPosition: position),
            streamID: stream, streamVersion: version, type: type, data: data, metadata: metadata, recordedAt: recordedAt)
    }
}
