import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// Projects `cluster-<id>` streams into `clusters`; each row keeps the folded state (`state`), so an event is
/// applied by `Cluster.evolve`, the command side's own code. Members are instances: their rows are the
/// `instances` projection's, found by `cluster_id`.
public struct ClusterProjection: Projection {
    public let name = "clusters"
    public let tables = ["clusters"]
    public let categories: Set<String>? = ["cluster"]
    let chart: Statechart

    public init(chart: Statechart) { self.chart = chart }

    public func apply(_ event: RecordedEvent, on connection: PostgresConnection, logger: Logger) async throws {
        guard event.category == "cluster", let domainEvent = FoldedRows.decode(event, as: Cluster.Event.self, logger: logger) else { return }
        let id = String(event.streamID.dropFirst("cluster-".count))
        var state = try await FoldedRows.state(of: id, in: "clusters", empty: Cluster.State(chart: chart), on: connection, logger: logger)
        state = Cluster.evolve(state, domainEvent, chart: chart)
        let json = String(decoding: try EventJSON.encoder().encode(state), as: UTF8.self)
        try await connection.guardedQuery(
            """
            INSERT INTO clusters (id, project_id, name, task, datastore_type, datastore_version, address, algorithm,
                configuration_id, fault_message, created_at, updated_at, version, deleted, state)
            VALUES (\(id), \(state.projectId), \(state.name), \(state.status), \(state.datastore?.type ?? ""),
                \(state.datastore?.version ?? ""), \(state.balancer?.address), \(state.algorithm.rawValue), \(state.configurationId),
                \(state.failure?.reason), \(state.createdAt ?? event.recordedAt), \(event.recordedAt), \(event.streamVersion),
                \(chart.isFinal(state.leaf)), \(json)::jsonb)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, task = excluded.task, datastore_version = excluded.datastore_version,
                address = excluded.address, algorithm = excluded.algorithm, configuration_id = excluded.configuration_id,
                fault_message = excluded.fault_message, updated_at = excluded.updated_at, version = excluded.version,
                deleted = excluded.deleted, state = excluded.state
            """, logger: logger)
    }
}
