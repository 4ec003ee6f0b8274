import Foundation
import Logging
import PostgresNIO

/// Read model of every stream in the log: its category, version and last event (`stream_catalog`).
///
/// Lets operators list what exists (`cellar events streams`) without scanning the log.
public struct StreamCatalogProjection: Projection {
    public let name = "stream_catalog"
    public let tables = ["stream_catalog"]

    public init() {}

    public func apply(_ event: RecordedEvent, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.guardedQuery("""
            INSERT INTO stream_catalog (stream_id, category, version, last_event_type, first_recorded_at, last_recorded_at)
            VALUES (\(event.streamID), \(event.category), \(event.streamVersion), \(event.type), \(event.recordedAt), \(event.recordedAt))
            ON CONFLICT (stream_id) DO UPDATE
            SET version = excluded.version, last_event_type = excluded.last_event_type,
                last_recorded_at = excluded.last_recorded_at
            WHERE stream_catalog.version < excluded.version
            """, logger: logger)
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
        let rows = try await client.query("""
            SELECT stream_id, category, version, last_event_type, first_recorded_at, last_recorded_at
            FROM stream_catalog WHERE \(category)::text IS NULL OR category = \(category)
            ORDER BY last_recorded_at DESC, stream_id LIMIT \(limit)
            """, logger: logger)
        var summaries: [StreamSummary] = []
        for try await (stream, category, version, type, first, last) in rows.decode((String, String, Int, String, Date, Date).self) {
            summaries.append(StreamSummary(streamID: stream, category: category, version: version,
                                           lastEventType: type, firstRecordedAt: first, lastRecordedAt: last))
        }
        return summaries
    }
}
