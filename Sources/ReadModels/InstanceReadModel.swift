import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// One instance as the API shows it.
public struct InstanceRecord: Sendable, Equatable {
    public var id: String
    public var projectID: String
    public var name: String
    public var status: String
    public var operatingStatus: String
    public var flavorID: String
    public var volumeSize: Int
    public var datastoreType: String
    public var datastoreVersion: String
    public var address: String?
    public var configurationID: String?
    public var replicaOf: String?
    public var faultMessage: String?
    public var faultAt: Date?
    public var created: Date
    public var updated: Date
    /// The stream version: changes with every event (the ETag).
    public var version: Int
    public var deleted: Bool
    /// The attached configuration group's name.
    public var configurationName: String? = nil
    /// Who may connect, once set: (is_public, allowed_cidrs).
    public var access: AccessRecord? = nil
    /// The cluster it is a member of.
    public var clusterID: String? = nil
    /// The statechart's leaf state (e.g. `active`, `preparing`).
    public var lifecycleState: String? = nil
}

extension InstanceRecord {
    /// The row of a folded instance: what the projection stores and what a time-travel read answers.
    /// `version`, `created` and `updated` come from the last folded event.
    public init(_ state: Instance.State, id: String, version: Int, deleted: Bool, created: Date, updated: Date, configurationName: String? = nil) {
        self.init(
            id: id, projectID: state.projectId, name: state.name, status: state.status, operatingStatus: state.operatingStatus,
            flavorID: state.flavorId, volumeSize: state.volumeSize, datastoreType: state.datastore?.type ?? "",
            datastoreVersion: state.datastore?.version ?? "", address: InstanceProjection.heldAddress(state),
            configurationID: state.configurationId, replicaOf: state.replicaOf, faultMessage: state.fault?.reason,
            faultAt: state.fault?.at, created: state.createdAt ?? created, updated: updated, version: version, deleted: deleted,
            configurationName: configurationName,
            access: state.access.map { AccessRecord(isPublic: $0.isPublic, allowedCidrs: $0.allowedCidrs) },
            clusterID: state.cluster?.clusterId, lifecycleState: state.leaf)
    }
}

/// An instance's access rule.
public struct AccessRecord: Sendable, Equatable {
    public var isPublic: Bool
    public var allowedCidrs: [String]
}

/// A database of an instance.
public struct DatabaseRecord: Sendable, Equatable {
    public var name: String
    public var characterSet: String?
    public var collate: String?
}

/// A user of an instance (no password: none is ever stored).
public struct UserRecord: Sendable, Equatable {
    public var name: String
    public var host: String
    public var databases: [String]
}

/// Queries over the instance read model.
public struct InstanceReadModel: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// Where the API's GETs find a project's rows between changes (nil: always the database).
    let cache: InstanceCache?

    public init(client: PostgresClient, logger: Logger, cache: InstanceCache? = nil) {
        self.client = client
        self.logger = logger
        self.cache = cache
    }

    static let columns = """
        id, project_id, name, status, operating_status, flavor_id, volume_size, datastore_type, datastore_version,
        address, configuration_id, replica_of, fault_message, fault_at, created_at, updated_at, version, deleted,
        (SELECT g.name FROM configuration_groups g WHERE g.id = configuration_id),
        (state->'access'->>'isPublic')::boolean, ARRAY(SELECT jsonb_array_elements_text(state->'access'->'allowedCidrs')),
        cluster_id, state->>'leaf'
        """

    /// One instance of `project` (nil when absent, deleted, or another project's).
    public func instance(_ id: String, project: String?) async throws -> InstanceRecord? {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM instances
            WHERE id = \(id) AND NOT deleted AND (\(project)::text IS NULL OR project_id = \(project))
            """, logger: logger)
        return try await Self.records(rows).first
    }

    /// One instance with its live replicas (oldest first), in one query (or from the cache for a project's own
    /// caller): what a detailed GET shows.
    public func instanceWithReplicas(_ id: String, project: String?) async throws -> (record: InstanceRecord, replicas: [String])? {
        if let cache, cache.isServing, let project {
            let snapshot = try await cache.snapshot(of: project) { try await liveInstances(of: project) }
            return snapshot.rows.first { $0.id == id }.map { ($0, snapshot.replicas[$0.id] ?? []) }
        }
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns),
                   ARRAY(SELECT r.id FROM instances r WHERE r.replica_of = i.id AND NOT r.deleted ORDER BY r.created_at, r.id)
            FROM instances i
            WHERE id = \(id) AND NOT deleted AND (\(project)::text IS NULL OR project_id = \(project))
            """, logger: logger)
        var found: (InstanceRecord, [String])?
        for try await row in rows {
            let columns = row.makeRandomAccess()
            found = (try Self.record(columns), try columns[columns.count - 1].decode([String].self))
        }
        return found
    }

    /// The live members of a cluster, by instance id.
    public func members(ofCluster clusterID: String) async throws -> [String: InstanceRecord] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM instances WHERE cluster_id = \(clusterID) AND NOT deleted
            """, logger: logger)
        return Dictionary(uniqueKeysWithValues: try await Self.records(rows).map { ($0.id, $0) })
    }

    /// The live replicas of `sourceID` (Trove's `replicas`), oldest first.
    public func replicas(of sourceID: String) async throws -> [String] {
        var ids: [String] = []
        for try await id in try await client.query(
            "SELECT id FROM instances WHERE replica_of = \(sourceID) AND NOT deleted ORDER BY created_at, id", logger: logger
        ).decode(String.self) {
            ids.append(id)
        }
        return ids
    }

    /// A page of `project`'s instances, newest first, after `marker` (an instance id); cluster members only when
    /// `includeClustered` (Trove hides them by default).
    public func instances(project: String?, limit: Int, after marker: String?, includeClustered: Bool = false) async throws -> [InstanceRecord] {
        if let cache, cache.isServing, let project {
            let rows = try await cache.snapshot(of: project) { try await liveInstances(of: project) }.rows
                .filter { includeClustered || $0.clusterID == nil }
            // As the query below: the rows after the marker's (created, id), newest first; an unknown marker, none.
            guard let marker else { return Array(rows.prefix(limit)) }
            guard let position = try await markerPosition(marker, among: rows) else { return [] }
            return Array(rows.filter { ($0.created, $0.id) < position }.prefix(limit))
        }
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM instances i
            WHERE NOT deleted AND (\(project)::text IS NULL OR project_id = \(project)) AND (\(includeClustered) OR cluster_id IS NULL)
              AND (\(marker)::text IS NULL OR (created_at, id) < (SELECT created_at, id FROM instances WHERE id = \(marker)))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger)
        return try await Self.records(rows)
    }

    /// Where a page marker stands: its (created, id), from the rows at hand or any instance's row.
    private func markerPosition(_ marker: String, among rows: [InstanceRecord]) async throws -> (Date, String)? {
        if let row = rows.first(where: { $0.id == marker }) { return (row.created, row.id) }
        for try await created in try await client.query("SELECT created_at FROM instances WHERE id = \(marker)", logger: logger).decode(Date.self) {
            return (created, marker)
        }
        return nil
    }

    /// Every live instance of `project`, cluster members included, newest first.
    func liveInstances(of project: String) async throws -> [InstanceRecord] {
        try await Self.records(
            client.query(
                """
                SELECT \(unescaped: Self.columns) FROM instances i
                WHERE NOT deleted AND project_id = \(project) ORDER BY created_at DESC, id DESC
                """, logger: logger))
    }

    /// The instance's stream version, for ETags and long polls (nil when absent).
    public func version(of id: String, project: String?) async throws -> Int? {
        try await instance(id, project: project)?.version
    }

    public func databases(of id: String) async throws -> [DatabaseRecord] {
        let rows = try await client.query(
            "SELECT name, character_set, collation_name FROM instance_databases WHERE instance_id = \(id) ORDER BY name", logger: logger)
        var result: [DatabaseRecord] = []
        for try await (name, characterSet, collate) in rows.decode((String, String?, String?).self) {
            result.append(DatabaseRecord(name: name, characterSet: characterSet, collate: collate))
        }
        return result
    }

    public func users(of id: String) async throws -> [UserRecord] {
        let rows = try await client.query(
            "SELECT name, host, databases FROM instance_users WHERE instance_id = \(id) ORDER BY name, host", logger: logger)
        var result: [UserRecord] = []
        for try await (name, host, databases) in rows.decode((String, String, [String]).self) {
            result.append(UserRecord(name: name, host: host, databases: databases))
        }
        return result
    }

    /// How many instances and volume gigabytes `project` uses now.
    public func usage(project: String) async throws -> (instances: Int, volumeGB: Int) {
        let rows = try await client.query(
            """
            SELECT count(*)::int, coalesce(sum(volume_size), 0)::int FROM instances WHERE project_id = \(project) AND NOT deleted
            """, logger: logger)
        for try await usage in rows.decode((Int, Int).self) { return usage }
        return (0, 0)
    }

    static func records(_ rows: PostgresRowSequence) async throws -> [InstanceRecord] {
        var records: [InstanceRecord] = []
        for try await row in rows { records.append(try record(row.makeRandomAccess())) }
        return records
    }

    /// The record in the first columns of a row (`columns`, in order).
    static func record(_ column: PostgresRandomAccessRow) throws -> InstanceRecord {
        InstanceRecord(
            id: try column[0].decode(String.self), projectID: try column[1].decode(String.self),
            name: try column[2].decode(String.self), status: try column[3].decode(String.self),
            operatingStatus: try column[4].decode(String.self), flavorID: try column[5].decode(String.self),
            volumeSize: try column[6].decode(Int.self), datastoreType: try column[7].decode(String.self),
            datastoreVersion: try column[8].decode(String.self), address: try column[9].decode(String?.self),
            configurationID: try column[10].decode(String?.self), replicaOf: try column[11].decode(String?.self),
            faultMessage: try column[12].decode(String?.self), faultAt: try column[13].decode(Date?.self),
            created: try column[14].decode(Date.self), updated: try column[15].decode(Date.self),
            version: try column[16].decode(Int.self), deleted: try column[17].decode(Bool.self),
            configurationName: try column[18].decode(String?.self),
            access: try column[19].decode(Bool?.self).map { AccessRecord(isPublic: $0, allowedCidrs: try column[20].decode([String].self)) },
            clusterID: try column[21].decode(String?.self), lifecycleState: try column[22].decode(String?.self)
        )
    }
}
