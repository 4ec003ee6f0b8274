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

        public init(
            project: String?, stream: String? = nil, type: String? = nil, actor: String? = nil,
            since: Date? = nil, until: Date? = nil, after: Int64? = nil, limit: Int = 100
        ) {
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
        // The streams asked for (one instance with its sagas, a project's instances) are found first, by index.
        var streams: [String]?
        if let stream = filter.stream {
            streams = [stream] + (filter.includeSagas ? try await sagaStreams(triggeredBy: stream) : [])
        }
        if let project = filter.project {
            let owned = try await instanceStreams(ofProject: project)
            streams = streams.map { asked in asked.filter(Set(owned).contains) } ?? owned
        }
        // With known streams or a time window, the matching rows are few: read them by their own index and sort
        // them (`+ 0` keeps the planner from walking the whole log in position order looking for them).
        let order = streams != nil || filter.since != nil || filter.until != nil ? "e.global_position + 0" : "e.global_position"
        let rows = try await client.query(
            """
            SELECT \(unescaped: PostgresEventStore.recordedColumns) FROM events e
            WHERE (\(streams)::text[] IS NULL OR e.stream_id = ANY(\(streams)::text[]))
              AND (\(filter.type)::text IS NULL OR e.event_type = \(filter.type))
              AND (\(filter.actor)::text IS NULL OR (e.metadata ? 'actor' AND e.metadata -> 'actor' ->> 'user_id' = \(filter.actor)))
              AND (\(filter.since)::timestamptz IS NULL OR e.recorded_at >= \(filter.since))
              AND (\(filter.until)::timestamptz IS NULL OR e.recorded_at < \(filter.until))
              AND e.global_position > \(filter.after ?? 0)
            ORDER BY \(unescaped: order)
            LIMIT \(filter.limit)
            """, logger: logger)
        return try await PostgresEventStore.recordedEvents(from: rows)
    }

    /// The streams of the project's instances (deleted ones included).
    func instanceStreams(ofProject project: String) async throws -> [String] {
        try await streamIDs("SELECT 'instance-' || id FROM instances WHERE project_id = \(project)")
    }

    /// The saga streams that events of `stream` started.
    func sagaStreams(triggeredBy stream: String) async throws -> [String] {
        try await streamIDs("SELECT stream_id FROM events WHERE event_type = 'SagaStarted' AND data ->> 'triggerStream' = \(stream)")
    }

    private func streamIDs(_ query: PostgresQuery) async throws -> [String] {
        var streams: [String] = []
        for try await id in try await client.query(query, logger: logger).decode(String.self) { streams.append(id) }
        return streams
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
