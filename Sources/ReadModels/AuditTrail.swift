import EventStore
import Foundation
import Logging
import PostgresNIO

/// History queries for the API's event endpoints: one instance's story, or a project's audit trail.
public struct AuditTrail: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// What to return.
    public struct Filter: Sendable {
        /// Only streams owned by this project (nil: every project, for admins).
        public var project: String?
        /// Only this stream (e.g. `instance-<id>`).
        public var stream: String?
        /// With `stream`: also the events of the sagas it triggered (their steps, retries, compensations).
        public var includeSagas = false
        public var type: String?
        /// Only events caused by this user id.
        public var actor: String?
        public var since: Date?
        public var until: Date?
        /// Events after this global position (the page cursor).
        public var after: Int64?
        public var limit: Int

        public init(project: String?, stream: String? = nil, type: String? = nil, actor: String? = nil,
                    since: Date? = nil, until: Date? = nil, after: Int64? = nil, limit: Int = 100) {
            self.project = project
            self.stream = stream
            self.type = type
            self.actor = actor
            self.since = since
            self.until = until
            self.after = after
            self.limit = limit
        }
    }

    /// Matching events, oldest first. Ownership comes from the read models (instances keep their owner after
    /// deletion), so a project sees the task manager's and guests' events about its resources too.
    public func events(_ filter: Filter) async throws -> [RecordedEvent] {
        let rows = try await client.query("""
            SELECT \(unescaped: PostgresEventStore.recordedColumns) FROM events e
            WHERE (\(filter.project)::text IS NULL
                   OR e.stream_id IN (SELECT 'instance-' || id FROM instances WHERE project_id = \(filter.project)))
              AND (\(filter.stream)::text IS NULL OR e.stream_id = \(filter.stream)
                   OR (\(filter.includeSagas) AND e.stream_id IN (
                       SELECT s.stream_id FROM events s WHERE s.event_type = 'SagaStarted' AND s.data ->> 'triggerStream' = \(filter.stream))))
              AND (\(filter.type)::text IS NULL OR e.event_type = \(filter.type))
              AND (\(filter.actor)::text IS NULL OR e.metadata -> 'actor' ->> 'user_id' = \(filter.actor))
              AND (\(filter.since)::timestamptz IS NULL OR e.recorded_at >= \(filter.since))
              AND (\(filter.until)::timestamptz IS NULL OR e.recorded_at < \(filter.until))
              AND e.global_position > \(filter.after ?? 0)
            ORDER BY e.global_position
            LIMIT \(filter.limit)
            """, logger: logger)
        return try await PostgresEventStore.recordedEvents(from: rows)
    }

    /// The owner of a cluster, deleted or not (nil when it never existed).
    public func owner(ofCluster id: String) async throws -> String? {
        let rows = try await client.query("SELECT project_id FROM clusters WHERE id = \(id)", logger: logger)
        for try await project in rows.decode(String.self) { return project }
        return nil
    }

    /// The owner of an instance, deleted or not (nil when it never existed).
    public func owner(ofInstance id: String) async throws -> String? {
        let rows = try await client.query("SELECT project_id FROM instances WHERE id = \(id)", logger: logger)
        for try await project in rows.decode(String.self) { return project }
        return nil
    }
}
