import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// One cluster as the API shows it: its folded state (members, task, balancer) and row facts.
public struct ClusterRecord: Sendable, Equatable {
    public var state: Cluster.State
    public var created: Date
    public var updated: Date

    public init(state: Cluster.State, created: Date, updated: Date) {
        self.state = state
        self.created = created
        self.updated = updated
    }
}

/// Queries over the cluster read model.
public struct ClusterReadModel: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// One cluster of `project` (nil when absent, deleted, or another project's; `project` nil: any).
    public func cluster(_ id: String, project: String?) async throws -> ClusterRecord? {
        try await records(
            client.query(
                """
                SELECT state::text, created_at, updated_at FROM clusters
                WHERE id = \(id) AND NOT deleted AND (\(project)::text IS NULL OR project_id = \(project))
                """, logger: logger)
        ).first
    }

    /// `project`'s clusters, newest first (`project` nil: every project's).
    public func clusters(project: String?) async throws -> [ClusterRecord] {
        try await records(
            client.query(
                """
                SELECT state::text, created_at, updated_at FROM clusters
                WHERE NOT deleted AND (\(project)::text IS NULL OR project_id = \(project)) ORDER BY created_at DESC, id DESC
                """, logger: logger))
    }

    /// The live clusters whose balancer has been started (the task manager starts stopped ones again; `/metrics`
    /// reads their balancers).
    public func balancedClusterIDs() async throws -> [String] {
        var ids: [String] = []
        for try await id in try await client.query("SELECT id FROM clusters WHERE NOT deleted AND address IS NOT NULL ORDER BY id", logger: logger)
            .decode(String.self)
        {
            ids.append(id)
        }
        return ids
    }

    /// Active-passive: how far each standby is behind the primary in replay, in bytes, by slot name, from the
    /// primary's last heartbeat (empty before it reported).
    public func replicationLag(primary: String) async throws -> [String: Int64] {
        struct Report: Decodable {
            var standbyLagBytes: [String: Int64]?
            enum CodingKeys: String, CodingKey { case standbyLagBytes = "standby_lag_bytes" }
        }
        let rows = try await client.query(
            "SELECT replication::text FROM guest_heartbeats WHERE instance_id = \(primary) AND replication IS NOT NULL", logger: logger)
        for try await text in rows.decode(String.self) {
            return (try? JSONDecoder().decode(Report.self, from: Data(text.utf8)))?.standbyLagBytes ?? [:]
        }
        return [:]
    }

    private func records(_ rows: PostgresRowSequence) async throws -> [ClusterRecord] {
        var result: [ClusterRecord] = []
        for try await (json, created, updated) in rows.decode((String, Date, Date).self) {
            let state = try EventJSON.decoder().decode(Cluster.State.self, from: Data(json.utf8))
            result.append(ClusterRecord(state: state, created: created, updated: updated))
        }
        return result
    }
}
