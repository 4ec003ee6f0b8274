import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// Projects `configuration-<id>` streams into `configuration_groups`.
public struct ConfigurationProjection: Projection {
    public let name = "configuration_groups"
    public let tables = ["configuration_groups"]
    public let categories: Set<String>? = ["configuration"]

    public init() {}

    public func apply(_ event: RecordedEvent, on connection: PostgresConnection, logger: Logger) async throws {
        guard event.category == "configuration" else { return }
        let id = String(event.streamID.dropFirst("configuration-".count))
        let domainEvent: ConfigurationGroup.Event
        do {
            domainEvent = try ConfigurationGroup.Event.decode(eventType: event.type, data: event.data)
        } catch {
            logger.error("skipping an unreadable configuration event", metadata: ["position": "\(event.globalPosition)", "error": "\(error)"])
            return
        }
        switch domainEvent {
        case .configurationGroupCreated(let created):
            let values = String(decoding: try JSONEncoder().encode(created.values), as: UTF8.self)
            try await connection.guardedQuery(
                """
                INSERT INTO configuration_groups (id, project_id, name, description, datastore_name, datastore_version_name,
                    datastore_version_id, parameter_values, created_at, updated_at, version)
                VALUES (\(id), \(created.projectId), \(created.name), \(created.description), \(created.datastore.type),
                    \(created.datastore.version), \(created.datastoreVersionId), \(values)::jsonb, \(event.recordedAt),
                    \(event.recordedAt), \(event.streamVersion))
                ON CONFLICT (id) DO NOTHING
                """, logger: logger)
        case .configurationGroupChanged(let changed):
            let values = String(decoding: try JSONEncoder().encode(changed.values), as: UTF8.self)
            try await connection.guardedQuery(
                """
                UPDATE configuration_groups SET parameter_values = \(values)::jsonb, name = coalesce(\(changed.name), name),
                    description = coalesce(\(changed.description), description), updated_at = \(event.recordedAt),
                    version = \(event.streamVersion)
                WHERE id = \(id)
                """, logger: logger)
        case .configurationGroupDeleted:
            try await connection.guardedQuery(
                """
                UPDATE configuration_groups SET deleted = true, updated_at = \(event.recordedAt), version = \(event.streamVersion)
                WHERE id = \(id)
                """, logger: logger)
        }
    }
}

/// Every read model Cellar keeps, in one list: the services run them and `rebuild-projections` rebuilds them.
public enum ReadModelProjections {
    public static func all(charts: StatechartLibrary) -> [any Projection] {
        [
            StreamCatalogProjection(), InstanceProjection(chart: charts.instance), ConfigurationProjection(),
            ClusterProjection(chart: charts.cluster),
            BackupProjection(chart: charts.backup),
        ]
    }
}
