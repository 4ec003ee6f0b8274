import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// Projects `instance-<id>` streams into `instances`, `instance_databases` and `instance_users`.
///
/// Each row keeps the folded aggregate state (`state`), so an event is applied by `Instance.evolve` — the same
/// code the command side uses — and the derived columns (Trove status, operating status...) follow from it.
public struct InstanceProjection: Projection {
    public let name = "instances"
    public let tables = ["instances", "instance_databases", "instance_users"]
    let chart: Statechart

    public init(chart: Statechart) { self.chart = chart }

    public func apply(_ event: RecordedEvent, on connection: PostgresConnection, logger: Logger) async throws {
        guard event.category == "instance", let domainEvent = FoldedRows.decode(event, as: Instance.Event.self, logger: logger) else { return }
        let id = String(event.streamID.dropFirst("instance-".count))
        var state = try await FoldedRows.state(of: id, in: "instances", empty: Instance.State(chart: chart), on: connection, logger: logger)
        state = Instance.evolve(state, domainEvent, chart: chart)
        try await save(state, id: id, event: event, on: connection, logger: logger)

        switch domainEvent {
        case .instanceCreateRequested(let spec):
            for database in spec.databases {
                try await connection.guardedQuery("""
                    INSERT INTO instance_databases VALUES (\(id), \(database.name), \(database.characterSet), \(database.collate))
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            for user in spec.users {
                try await connection.guardedQuery("""
                    INSERT INTO instance_users VALUES (\(id), \(user.name), \(user.host), \(user.databases)) ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
        case .guestChangeApplied(let change):
            try await apply(change, instance: id, on: connection, logger: logger)
        case .instanceDeleted:
            try await connection.guardedQuery("DELETE FROM instance_databases WHERE instance_id = \(id)", logger: logger)
            try await connection.guardedQuery("DELETE FROM instance_users WHERE instance_id = \(id)", logger: logger)
        default:
            break
        }
    }

    /// Databases and users after a change the guest made.
    private func apply(_ change: Instance.GuestChange, instance id: String, on connection: PostgresConnection, logger: Logger) async throws {
        switch change {
        case .createDatabases(let databases):
            for database in databases {
                try await connection.guardedQuery("""
                    INSERT INTO instance_databases VALUES (\(id), \(database.name), \(database.characterSet), \(database.collate))
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
        case .deleteDatabase(let name):
            try await connection.guardedQuery("DELETE FROM instance_databases WHERE instance_id = \(id) AND name = \(name)", logger: logger)
            try await connection.guardedQuery(
                "UPDATE instance_users SET databases = array_remove(databases, \(name)) WHERE instance_id = \(id)", logger: logger)
        case .createUsers(let users):
            for user in users {
                try await connection.guardedQuery("""
                    INSERT INTO instance_users VALUES (\(id), \(user.name), \(user.host), \(user.databases)) ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
        case .deleteUser(let name, let host):
            try await connection.guardedQuery("DELETE FROM instance_users WHERE instance_id = \(id) AND name = \(name) AND host = \(host)", logger: logger)
        case .grantAccess(let user, let host, let databases):
            try await connection.guardedQuery("""
                UPDATE instance_users SET databases = ARRAY(SELECT DISTINCT unnest(databases || \(databases)::text[]) ORDER BY 1)
                WHERE instance_id = \(id) AND name = \(user) AND host = \(host)
                """, logger: logger)
        case .revokeAccess(let user, let host, let database):
            try await connection.guardedQuery("""
                UPDATE instance_users SET databases = array_remove(databases, \(database))
                WHERE instance_id = \(id) AND name = \(user) AND host = \(host)
                """, logger: logger)
        case .renameUser(let name, let host, let newName, let newHost):
            try await connection.guardedQuery("""
                UPDATE instance_users SET name = \(newName), host = \(newHost ?? host) WHERE instance_id = \(id) AND name = \(name) AND host = \(host)
                """, logger: logger)
        case .changePasswords, .enableRoot, .disableRoot, .updateAccess:
            break
        }
    }

    /// The address the instance holds: none once a failed build was compensated. The `CreateInstance` saga
    /// releases the server and its address lease before it records the failure, so the address may already be
    /// another instance's; the folded state still remembers it (a retried build allocates afresh).
    public static func heldAddress(_ state: Instance.State) -> String? {
        state.fault?.statusBefore == "BUILD" ? nil : state.address
    }

    private func save(_ state: Instance.State, id: String, event: RecordedEvent, on connection: PostgresConnection, logger: Logger) async throws {
        let json = String(decoding: try EventJSON.encoder().encode(state), as: UTF8.self)
        let row = InstanceRecord(state, id: id, version: event.streamVersion, deleted: chart.isFinal(state.leaf),
                                 created: event.recordedAt, updated: event.recordedAt)
        try await connection.guardedQuery("""
            INSERT INTO instances (id, project_id, name, status, operating_status, flavor_id, volume_size, datastore_type,
                datastore_version, address, configuration_id, replica_of, fault_message, fault_at, created_at, updated_at,
                version, deleted, state, cluster_id)
            VALUES (\(id), \(row.projectID), \(row.name), \(row.status), \(row.operatingStatus), \(row.flavorID),
                \(row.volumeSize), \(row.datastoreType), \(row.datastoreVersion), \(row.address),
                \(row.configurationID), \(row.replicaOf), \(row.faultMessage), \(row.faultAt),
                \(row.created), \(row.updated), \(row.version), \(row.deleted), \(json)::jsonb, \(row.clusterID))
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status,
                operating_status = excluded.operating_status, flavor_id = excluded.flavor_id,
                volume_size = excluded.volume_size, datastore_type = excluded.datastore_type,
                datastore_version = excluded.datastore_version, address = excluded.address,
                configuration_id = excluded.configuration_id, replica_of = excluded.replica_of,
                fault_message = excluded.fault_message, fault_at = excluded.fault_at, updated_at = excluded.updated_at,
                version = excluded.version, deleted = excluded.deleted, state = excluded.state
            """, logger: logger)
    }
}
