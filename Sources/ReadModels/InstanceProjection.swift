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
    public let categories: Set<String>? = ["instance"]
    let chart: Statechart
    /// How many folded states a rebuild keeps in memory (past that, it reads them back from their rows).
    let rebuildMemory: Int

    public init(chart: Statechart, rebuildMemory: Int = 200_000) {
        self.chart = chart
        self.rebuildMemory = rebuildMemory
    }

    public func apply(_ event: RecordedEvent, on connection: PostgresConnection, logger: Logger) async throws {
        try await apply(batch: [event], on: connection, logger: logger)
    }

    /// The batch's instances loaded in one query, folded in memory, saved in one upsert; databases and users
    /// follow each event that changes them.
    public func apply(batch events: [RecordedEvent], on connection: PostgresConnection, logger: Logger) async throws {
        let mine = events.filter { $0.category == "instance" }
        guard !mine.isEmpty else { return }
        let stored = try await FoldedRows.states(
            of: Set(mine.map(Self.id)), in: "instances", as: Instance.State.self,
            on: connection, logger: logger)
        for statement in try fold(mine, onto: stored, logger: logger).statements {
            try await connection.guardedQuery(statement, logger: logger)
        }
    }

    static func id(of event: RecordedEvent) -> String { String(event.streamID.dropFirst("instance-".count)) }

    /// Folds instance events onto the states their rows hold (`stored`: every instance they touch that has a row);
    /// returns the statements that write the rows, in order, and the states they write.
    func fold(
        _ mine: [RecordedEvent], onto stored: [String: Instance.State], logger: Logger
    ) throws
        -> (statements: [PostgresQuery], states: [String: Instance.State])
    {
        var states = stored
        var folded: [String: (first: RecordedEvent, last: RecordedEvent)] = [:]
        var order: [String] = []
        var children = InstanceChildRows()
        for event in mine {
            guard let domainEvent = FoldedRows.decode(event, as: Instance.Event.self, logger: logger) else { continue }
            let id = Self.id(of: event)
            states[id] = Instance.evolve(states[id] ?? Instance.State(chart: chart), domainEvent, chart: chart)
            if let seen = folded[id] {
                folded[id] = (seen.first, event)
            } else {
                folded[id] = (event, event)
                order.append(id)
            }
            try applyChildRows(domainEvent, instance: id, to: &children)
        }
        try children.flush()
        guard !order.isEmpty else { return (children.statements, [:]) }
        let written = order.compactMap { id in states[id].map { (id, $0) } }
        let save = try saveStatement(written.compactMap { id, state in folded[id].map { (state, id, $0.first, $0.last) } })
        return (children.statements + [save], Dictionary(uniqueKeysWithValues: written))
    }

    /// Databases and users as the event leaves them.
    private func applyChildRows(_ domainEvent: Instance.Event, instance id: String, to children: inout InstanceChildRows) throws {
        switch domainEvent {
        case .instanceCreateRequested(let spec):
            for database in spec.databases { children.insert(database: database, instance: id) }
            for user in spec.users { children.insert(user: user, instance: id) }
        case .guestChangeApplied(let change):
            try apply(change, instance: id, to: &children)
        case .instanceDeleted:
            try children.run("DELETE FROM instance_databases WHERE instance_id = \(id)")
            try children.run("DELETE FROM instance_users WHERE instance_id = \(id)")
        default:
            break
        }
    }

    /// Databases and users after a change the guest made.
    private func apply(_ change: Instance.GuestChange, instance id: String, to children: inout InstanceChildRows) throws {
        switch change {
        case .createDatabases(let databases):
            for database in databases { children.insert(database: database, instance: id) }
        case .deleteDatabase(let name):
            try children.run("DELETE FROM instance_databases WHERE instance_id = \(id) AND name = \(name)")
            try children.run("UPDATE instance_users SET databases = array_remove(databases, \(name)) WHERE instance_id = \(id)")
        case .createUsers(let users):
            for user in users { children.insert(user: user, instance: id) }
        case .deleteUser(let name, let host):
            try children.run("DELETE FROM instance_users WHERE instance_id = \(id) AND name = \(name) AND host = \(host)")
        case .grantAccess(let user, let host, let databases):
            try children.run(
                """
                UPDATE instance_users SET databases = ARRAY(SELECT DISTINCT unnest(databases || \(databases)::text[]) ORDER BY 1)
                WHERE instance_id = \(id) AND name = \(user) AND host = \(host)
                """)
        case .revokeAccess(let user, let host, let database):
            try children.run(
                """
                UPDATE instance_users SET databases = array_remove(databases, \(database))
                WHERE instance_id = \(id) AND name = \(user) AND host = \(host)
                """)
        case .renameUser(let name, let host, let newName, let newHost):
            try children.run(
                """
                UPDATE instance_users SET name = \(newName), host = \(newHost ?? host) WHERE instance_id = \(id) AND name = \(name) AND host = \(host)
                """)
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

    /// One upsert for every instance the batch changed (`created_at` is kept for rows that exist already). The
    /// states go as an array of their own, beside the other columns' JSON (not as strings escaped inside it).
    private func saveStatement(_ folded: [(state: Instance.State, id: String, first: RecordedEvent, last: RecordedEvent)]) throws -> PostgresQuery {
        let encoder = EventJSON.encoder()
        var states: [String] = []
        let rows = try folded.map { state, id, first, last in
            let row = InstanceRecord(
                state, id: id, version: last.streamVersion, deleted: chart.isFinal(state.leaf),
                created: first.recordedAt, updated: last.recordedAt)
            states.append(String(decoding: try encoder.encode(state), as: UTF8.self))
            return SavedRow(
                id: id, project: row.projectID, name: row.name, status: row.status, operating: row.operatingStatus,
                flavor: row.flavorID, volume: row.volumeSize, type: row.datastoreType, typeVersion: row.datastoreVersion,
                address: row.address, configuration: row.configurationID, replicaOf: row.replicaOf,
                fault: row.faultMessage, faultAt: row.faultAt?.timeIntervalSince1970,
                created: row.created.timeIntervalSince1970, updated: row.updated.timeIntervalSince1970,
                version: row.version, deleted: row.deleted, cluster: row.clusterID)
        }
        let json = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
        return """
            INSERT INTO instances (id, project_id, name, status, operating_status, flavor_id, volume_size, datastore_type,
                datastore_version, address, configuration_id, replica_of, fault_message, fault_at, created_at, updated_at,
                version, deleted, state, cluster_id)
            SELECT r.id, r.project, r.name, r.status, r.operating, r.flavor, r.volume, r.type, r."typeVersion", r.address,
                r.configuration, r."replicaOf", r.fault, to_timestamp(r."faultAt"), to_timestamp(r.created), to_timestamp(r.updated),
                r.version, r.deleted, r.state::jsonb, r.cluster
            FROM ROWS FROM (
                jsonb_to_recordset(\(json)::jsonb) AS (id text, project text, name text, status text, operating text, flavor text,
                    volume int, type text, "typeVersion" text, address text, configuration text, "replicaOf" text, fault text,
                    "faultAt" float8, created float8, updated float8, version int, deleted bool, cluster text),
                unnest(\(states)::text[])
            ) AS r(id, project, name, status, operating, flavor, volume, type, "typeVersion", address, configuration, "replicaOf",
                fault, "faultAt", created, updated, version, deleted, cluster, state)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status,
                operating_status = excluded.operating_status, flavor_id = excluded.flavor_id,
                volume_size = excluded.volume_size, datastore_type = excluded.datastore_type,
                datastore_version = excluded.datastore_version, address = excluded.address,
                configuration_id = excluded.configuration_id, replica_of = excluded.replica_of,
                fault_message = excluded.fault_message, fault_at = excluded.fault_at, updated_at = excluded.updated_at,
                version = excluded.version, deleted = excluded.deleted, state = excluded.state
            """
    }

    /// One row as the upsert reads it (`jsonb_to_recordset`), but its state.
    private struct SavedRow: Encodable {
        var id, project, name, status, operating, flavor: String
        var volume: Int
        var type, typeVersion: String
        var address, configuration, replicaOf, fault: String?
        var faultAt: Double?
        var created, updated: Double
        var version: Int
        var deleted: Bool
        var cluster: String?
    }
}
