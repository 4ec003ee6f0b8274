import EventStore
import Foundation
import Logging
import PostgresNIO

/// Per-project quotas: limits (admin-set or default) and usage counted from the event log.
///
/// Usage is read from the log, not a read model, inside the creating transaction and under a per-project lock,
/// so two concurrent creates can never both squeeze under the limit.
public struct QuotaBook: Sendable {
    /// The resources Cellar counts; `volumes` is in gigabytes. -1 means unlimited.
    public static let defaults: [String: Int] = ["instances": 10, "volumes": 100, "backups": 50]

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The limits of `project`, defaults filled in.
    public func limits(project: String) async throws -> [String: Int] {
        try await client.withConnection { connection in try await Self.limits(project: project, on: connection, logger: logger) }
    }

    /// What `project` uses now.
    public func usage(project: String) async throws -> [String: Int] {
        try await client.withConnection { connection in try await Self.usage(project: project, on: connection, logger: logger) }
    }

    /// Sets some of `project`'s limits.
    public func setLimits(_ limits: [String: Int], project: String) async throws {
        for (resource, limit) in limits {
            try await client.query(
                """
                INSERT INTO quotas (project_id, resource, hard_limit) VALUES (\(project), \(resource), \(limit))
                ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit
                """, logger: logger)
        }
    }

    static func limits(project: String, on connection: PostgresConnection, logger: Logger) async throws -> [String: Int] {
        var limits = defaults
        let rows = try await connection.guardedQuery("SELECT resource, hard_limit FROM quotas WHERE project_id = \(project)", logger: logger)
        for try await (resource, limit) in rows.decode((String, Int).self) { limits[resource] = limit }
        return limits
    }

    /// Instances created and not deleted, plus cluster members asked for whose instance the cluster's saga has
    /// not created yet (so a cluster's members count from the moment it is accepted).
    static func usage(project: String, on connection: PostgresConnection, logger: Logger) async throws -> [String: Int] {
        let rows = try await connection.guardedQuery(
            """
            WITH created AS (
                SELECT c.stream_id, (c.data ->> 'volumeSize')::int AS size FROM events c
                WHERE c.event_type = 'InstanceCreateRequested' AND c.data ->> 'projectId' = \(project)
                  AND NOT EXISTS (SELECT 1 FROM events d WHERE d.stream_id = c.stream_id AND d.event_type = 'InstanceDeleted')
            ), clusters AS (
                SELECT c.stream_id FROM events c
                WHERE c.event_type = 'ClusterCreateRequested' AND c.data ->> 'projectId' = \(project)
                  AND NOT EXISTS (SELECT 1 FROM events d WHERE d.stream_id = c.stream_id AND d.event_type = 'ClusterDeleted')
            ), promised AS (
                SELECT 'instance-' || (m ->> 'id') AS stream_id, (m ->> 'volumeSize')::int AS size
                FROM events e JOIN clusters k ON k.stream_id = e.stream_id,
                     jsonb_array_elements(coalesce(e.data -> 'members', '[]'::jsonb)) m
                WHERE e.event_type IN ('ClusterCreateRequested', 'ClusterGrowRequested')
                  AND NOT EXISTS (SELECT 1 FROM events d WHERE d.stream_id = 'instance-' || (m ->> 'id'))
            )
            SELECT count(*)::int, coalesce(sum(size), 0)::int FROM (SELECT * FROM created UNION ALL SELECT * FROM promised) u
            """, logger: logger)
        var usage = ["instances": 0, "volumes": 0]
        for try await (instances, volumes) in rows.decode((Int, Int).self) { usage = ["instances": instances, "volumes": volumes] }
        // Backups requested and not deleted (failed ones too: their objects stay until they are).
        let backups = try await connection.guardedQuery(
            """
            SELECT count(*)::int FROM events c
            WHERE c.event_type = 'BackupCreateRequested' AND c.data ->> 'projectId' = \(project)
              AND NOT EXISTS (SELECT 1 FROM events d WHERE d.stream_id = c.stream_id AND d.event_type = 'BackupDeleted')
            """, logger: logger)
        usage["backups"] = try await backups.collect().first?.decode(Int.self) ?? 0
        return usage
    }

    /// Checks that `project` may add `requested` (e.g. one instance and its volume) inside the caller's
    /// transaction; returns the resources that would exceed their limits (empty: go ahead).
    ///
    /// Takes a per-project lock held until the transaction ends, so the next creator counts this one.
    public static func exceeded(
        by requested: [String: Int], project: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> [String] {
        try await connection.guardedQuery("SELECT pg_advisory_xact_lock(hashtext(\("quota:" + project)))", logger: logger)
        let limits = try await limits(project: project, on: connection, logger: logger)
        let usage = try await usage(project: project, on: connection, logger: logger)
        return requested.keys.sorted().filter { resource in
            guard let limit = limits[resource], limit >= 0 else { return false }
            return (usage[resource] ?? 0) + (requested[resource] ?? 0) > limit
        }
    }
}
