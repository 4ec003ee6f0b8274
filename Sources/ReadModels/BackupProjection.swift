import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// Projects `backup-<id>` streams into `backups`; each row keeps the folded state (`state`), applied by
/// `Backup.evolve`, less the backup's sealed key (its stream alone holds it).
public struct BackupProjection: Projection {
    public let name = "backups"
    public let tables = ["backups"]
    public let categories: Set<String>? = ["backup"]
    let chart: Statechart

    public init(chart: Statechart) { self.chart = chart }

    public func apply(_ event: RecordedEvent, on connection: PostgresConnection, logger: Logger) async throws {
        guard event.category == "backup", let domainEvent = FoldedRows.decode(event, as: Backup.Event.self, logger: logger) else { return }
        let id = String(event.streamID.dropFirst("backup-".count))
        var state = try await FoldedRows.state(of: id, in: "backups", empty: Backup.State(chart: chart), on: connection, logger: logger)
        state = Backup.evolve(state, domainEvent, chart: chart)
        state.stored?.sealedKey = ""
        let json = String(decoding: try EventJSON.encoder().encode(state), as: UTF8.self)
        try await connection.guardedQuery(
            """
            INSERT INTO backups (id, project_id, instance_id, name, status, datastore_type, datastore_version, created_at,
                updated_at, version, deleted, state)
            VALUES (\(id), \(state.projectId), \(state.instanceId), \(state.name), \(state.status), \(state.datastore?.type ?? ""),
                \(state.datastore?.version ?? ""), \(state.createdAt ?? event.recordedAt), \(event.recordedAt), \(event.streamVersion),
                \(chart.isFinal(state.leaf)), \(json)::jsonb)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status, updated_at = excluded.updated_at,
                version = excluded.version, deleted = excluded.deleted, state = excluded.state
            """, logger: logger)
    }
}

/// The backups a project sees, from the `backups` read model.
public struct BackupReadModel: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The project's live backups, oldest first; of one instance when given.
    public func list(projectID: String, instanceID: String? = nil) async throws -> [Backup.State] {
        let rows = try await client.query(
            """
            SELECT state::text FROM backups WHERE project_id = \(projectID) AND NOT deleted
                AND (\(instanceID)::text IS NULL OR instance_id = \(instanceID)) ORDER BY created_at, id
            """, logger: logger)
        var backups: [Backup.State] = []
        for try await json in rows.decode(String.self) {
            backups.append(try EventJSON.decoder().decode(Backup.State.self, from: Data(json.utf8)))
        }
        return backups
    }
}
