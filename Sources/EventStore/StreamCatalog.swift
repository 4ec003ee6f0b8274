import Foundation
import Logging
import PostgresNIO

/// Read model of every stream in the log: its category, version and last event (`stream_catalog`).
///
/// Lets operators list what exists (`cellar events streams`) without scanning the log.
public struct StreamCatalogProjection: Projection {
    public let name = "stream_catalog"
    public let tables = ["stream_catalog"]
    /// A rebuild hands it no events: it reads each batch's range of the log itself (`RangeRebuild`).
    public let categories: Set<String>? = []

    public init() {}

    public func apply(_ event: RecordedEvent, on connection: PostgresConnection, logger: Logger) async throws {
        try await apply(batch: [event], on: connection, logger: logger)
    }

    /// One upsert for the whole batch: each stream's first and last event in it.
    public func apply(batch events: [RecordedEvent], on connection: PostgresConnection, logger: Logger) async throws {
        var rows: [String: CatalogRow] = [:]
        var order: [String] = []
        for event in events {
            if var row = rows[event.streamID] {
                row.version = event.streamVersion
                row.type = event.type
                row.last = event.recordedAt.timeIntervalSince1970
                rows[event.streamID] = row
            } else {
                order.append(event.streamID)
                let at = event.recordedAt.timeIntervalSince1970
                rows[event.streamID] = CatalogRow(
                    stream: event.streamID, category: event.category, version: event.streamVersion,
                    type: event.type, first: at, last: at)
            }
        }
        guard !order.isEmpty else { return }
        let catalog = order.compactMap { rows[$0] }
        try await connection.guardedQuery(
            """
            INSERT INTO stream_catalog (stream_id, category, version, last_event_type, first_recorded_at, last_recorded_at)
            SELECT r.stream, r.category, r.version, r.type, to_timestamp(r.first), to_timestamp(r.last)
            FROM unnest(\(catalog.map(\.stream))::text[], \(catalog.map(\.category))::text[], \(catalog.map(\.version))::int[],
                        \(catalog.map(\.type))::text[], \(catalog.map(\.first))::float8[], \(catalog.map(\.last))::float8[])
                 AS r(stream, category, version, type, first, last)
            ON CONFLICT (stream_id) DO UPDATE
            SET version = excluded.version, last_event_type = excluded.last_event_type,
                last_recorded_at = excluded.last_recorded_at
            WHERE stream_catalog.version < excluded.version
            """, logger: logger)
    }

    /// A rebuild summarises each batch's range in SQL: most of a log's events are read by no other projection,
    /// so they never travel to Cellar.
    public func rebuildApplier() -> any RebuildApplier { RangeRebuild() }

    /// Each stream's first and last event in the range, upserted as `apply(batch:)` would for its events.
    struct RangeRebuild: RebuildApplier {
        func apply(_ batch: RebuildBatch, on connection: PostgresConnection, logger: Logger) async throws {
            let (after, through) = (batch.after, batch.through)
            // Sorting a range's events by stream takes a few MB: in memory, not in temporary files (this
            // transaction only).
            try await connection.guardedQuery("SET LOCAL work_mem = '64MB'", logger: logger)
            try await connection.guardedQuery(
                """
                INSERT INTO stream_catalog (stream_id, category, version, last_event_type, first_recorded_at, last_recorded_at)
                SELECT stream_id, split_part(stream_id, '-', 1), max(stream_version),
                       (array_agg(event_type ORDER BY stream_version DESC))[1],
                       (array_agg(recorded_at ORDER BY stream_version))[1], (array_agg(recorded_at ORDER BY stream_version DESC))[1]
                FROM events
                WHERE (tx_id, global_position) > (\(String(after.transactionID))::xid8, \(after.globalPosition))
                  AND (tx_id, global_position) <= (\(String(through.transactionID))::xid8, \(through.globalPosition))
                GROUP BY stream_id
                ON CONFLICT (stream_id) DO UPDATE
                SET version = excluded.version, last_event_type = excluded.last_event_type,
                    last_recorded_at = excluded.last_recorded_at
                WHERE stream_catalog.version < excluded.version
                """, logger: logger)
        }

        func finish(on connection: PostgresConnection, logger: Logger) async throws {}
    }

    private struct CatalogRow {
        var stream: String
        var category: String
        var version: Int
        var type: String
        var first: Double
        var last: Double
    }
}

/// One row of `stream_catalog`.
public struct StreamSummary: Sendable, Equatable {
    public var streamID: String
    public var category: String
    public var version: Int
    public var lastEventType: String
    public var firstRecordedAt: Date
    public var lastRecordedAt: Date
}

extension PostgresEventStore {
    /// Streams from the catalog read model, most recently changed first, optionally of one category.
    public func streams(category: String? = nil, limit: Int = 100) async throws -> [StreamSummary] {
        let rows = try await client.query(
            """
            SELECT stream_id, category, version, last_event_type, first_recorded_at, last_recorded_at
            FROM stream_catalog WHERE \(category)::text IS NULL OR category = \(category)
            ORDER BY last_recorded_at DESC, stream_id LIMIT \(limit)
            """, logger: logger)
        var summaries: [StreamSummary] = []
        for try await (stream, category, version, type, first, last) in rows.decode((String, String, Int, String, Date, Date).self) {
            summaries.append(
                StreamSummary(
                    streamID: stream, category: category, version: version,
                    lastEventType: type, firstRecordedAt: first, lastRecordedAt: last))
        }
        return summaries
    }
}
