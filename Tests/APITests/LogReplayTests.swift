import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import PostgresNIO
import ReadModels
import Testing

/// The stored event streams (`Tests/LifecycleTests/Histories`, written as earlier builds wrote them) appended to an
/// empty log and every read model rebuilt from it: the rows must be the ones stored in `Fixtures/replayed-read-models.json`
/// (timestamps aside). A change to an event's shape, a projection or a chart that alters what an existing log
/// shows fails here. `CELLAR_RECORD_HISTORIES=1` rewrites the expected rows after a deliberate change.
@Suite("A stored log replays to the same read models", .tags(.postgres))
struct LogReplayTests {
    static let histories = TestServers.projectRoot.appendingPathComponent("Tests/LifecycleTests/Histories")
    static let expected = TestServers.projectRoot.appendingPathComponent("Tests/APITests/Fixtures/replayed-read-models.json")
    /// Read-model tables and their order; timestamps (`*_at`, `created`, `updated`) are left out of the comparison.
    static let tables = [
        ("instances", "id"), ("instance_databases", "instance_id, name"), ("instance_users", "instance_id, name, host"),
        ("clusters", "id"), ("configuration_groups", "id"),
    ]

    struct Stored: Decodable {
        var aggregate: String
        var events: [StoredEvent]
    }

    struct StoredEvent: Decodable {
        var type: String
        var data: JSONObject
    }

    /// Any JSON object, re-encoded as it came.
    struct JSONObject: Decodable {
        var data: Data
        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(AnyJSON.self)
            data = try JSONSerialization.data(withJSONObject: value.value, options: [.sortedKeys])
        }
    }

    @Test("every stored stream, appended to an empty log, rebuilds the read models stored for it")
    func replay() async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            let last = try await Self.appendHistories(to: store)
            let charts = try StatechartLibrary.load(directory: TestServers.projectRoot.appendingPathComponent("statecharts"))
            // The read fence is server-wide: another test's open transaction may hold back the end of this log.
            let deadline = ContinuousClock.now + .seconds(30)
            while try await ReadModelRebuild(store: store, projections: ReadModelProjections.all(charts: charts)).run().position < last
                && ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(20))
            }
            let rows = try await Self.rows(database.client, timestamps: false)
            #expect(rows.values.map(\.count).reduce(0, +) > 0, "the log rebuilt nothing")
            if ProcessInfo.processInfo.environment["CELLAR_RECORD_HISTORIES"] == "1" {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                try encoder.encode(rows).write(to: Self.expected)
            }
            let expected = try JSONDecoder().decode([String: [String]].self, from: Data(contentsOf: Self.expected))
            for (table, _) in Self.tables {
                #expect(rows[table] == expected[table], "\(table): rebuilt \(rows[table] ?? []) but expected \(expected[table] ?? [])")
            }
        }
    }
}

extension LogReplayTests {
    @Test("the one-pass rebuild writes the rows, timestamps included, that each projection kept live writes")
    func rebuildEqualsLive() async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            let last = max(try await Self.appendHistories(to: store), try await Self.appendGuestChangesAndGroups(to: store))
            let charts = try StatechartLibrary.load(directory: TestServers.projectRoot.appendingPathComponent("statecharts"))
            // Small batches split streams across batches; a rebuild memory of two instances reads most states back.
            let projections: [any Projection] = [
                StreamCatalogProjection(), InstanceProjection(chart: charts.instance, rebuildMemory: 2), ConfigurationProjection(),
                ClusterProjection(chart: charts.cluster),
            ]
            // The read fence is server-wide: another test's open transaction may hold back the end of this log.
            let deadline = ContinuousClock.now + .seconds(30)
            for projection in projections {
                let runner = ProjectionRunner(store: store, projection: projection, batchSize: 5)
                while try await runner.checkpoint() < last && ContinuousClock.now < deadline {
                    if try await runner.catchUp() == 0 { try await Task.sleep(for: .milliseconds(20)) }
                }
            }
            let live = try await Self.rows(database.client, timestamps: true)
            let liveCatalog = try await store.streams(limit: 10_000)
            #expect(live["instance_users"]?.count ?? 0 > 3 && live["clusters"]?.isEmpty == false && live["configuration_groups"]?.isEmpty == false)
            for batchSize in [7, 5000] {
                while try await ReadModelRebuild(store: store, projections: projections, batchSize: batchSize).run().position < last
                    && ContinuousClock.now < deadline
                {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(try await Self.rows(database.client, timestamps: true) == live, "batches of \(batchSize)")
                #expect(try await store.streams(limit: 10_000) == liveCatalog)
            }
        }
    }

    /// Appends every stored stream but the sagas' to the log; returns the last event's position.
    static func appendHistories(to store: PostgresEventStore) async throws -> LogPosition {
        var last = LogPosition.start
        let files = try FileManager.default.contentsOfDirectory(atPath: histories.path)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix("saga-") }.sorted()
        for file in files {
            let stored = try JSONDecoder().decode(Stored.self, from: Data(contentsOf: histories.appendingPathComponent(file)))
            let stream = "\(stored.aggregate)-\(file.replacingOccurrences(of: ".json", with: ""))"
            let events = stored.events.map { NewEvent(type: $0.type, data: $0.data.data, metadata: Data(#"{"service":"replay"}"#.utf8)) }
            last = max(last, try await store.append(to: stream, expectedVersion: .noStream, events: events).events.last!.logPosition)
        }
        return last
    }

    /// An instance whose databases and users the guest changes in every way there is, and a configuration group
    /// created, changed and deleted; returns the last event's position.
    static func appendGuestChangesAndGroups(to store: PostgresEventStore) async throws -> LogPosition {
        let users = [
            Instance.UserSpec(name: "app", host: "%", databases: ["a"], passwordSet: true),
            Instance.UserSpec(name: "ops", host: "10.0.0.1", databases: [], passwordSet: true),
        ]
        let spec = Instance.Spec(
            id: "guest-changes", projectId: "proj-1", name: "changes", flavorId: "2", volumeSize: 2,
            datastore: Datastore(type: "mariadb", version: "11.4"),
            databases: [Instance.DatabaseSpec(name: "a"), Instance.DatabaseSpec(name: "b", characterSet: "utf8mb4", collate: nil)],
            users: users, configurationId: nil, replicaOf: nil, createdAt: Date(timeIntervalSince1970: 1_780_000_000))
        let changes: [Instance.GuestChange] = [
            .createDatabases([Instance.DatabaseSpec(name: "c"), Instance.DatabaseSpec(name: "a", characterSet: "latin1", collate: nil)]),
            .createUsers([
                Instance.UserSpec(name: "app", host: "%", databases: ["b"], passwordSet: true),
                Instance.UserSpec(name: "report", host: "%", databases: ["c"], passwordSet: true),
            ]),
            .grantAccess(user: "app", host: "%", databases: ["c", "b"]),
            .revokeAccess(user: "app", host: "%", database: "a"),
            .deleteDatabase(name: "c"),
            .createDatabases([Instance.DatabaseSpec(name: "d")]),
            .renameUser(name: "ops", host: "10.0.0.1", newName: "operator", newHost: "10.0.0.2"),
            .deleteUser(name: "report", host: "%"),
            .createUsers([Instance.UserSpec(name: "late", host: "%", databases: ["d"], passwordSet: true)]),
        ]
        let instanceEvents = [Instance.Event.instanceCreateRequested(spec)] + changes.map { .guestChangeApplied($0) }
        let group: [ConfigurationGroup.Event] = [
            .configurationGroupCreated(
                .init(
                    id: "cfg-9", projectId: "proj-1", name: "tuned", description: nil,
                    datastore: Datastore(type: "mariadb", version: "11.4"), datastoreVersionId: "v-11.4",
                    values: ["max_connections": .integer(200)])),
            .configurationGroupChanged(.init(values: ["max_connections": .integer(300)], name: "retuned")),
            .configurationGroupDeleted,
        ]
        let instance = try await store.append(
            to: "instance-guest-changes", expectedVersion: .noStream,
            events: try instanceEvents.map {
                NewEvent(type: $0.eventType, data: try $0.encodedData(), metadata: Data(#"{"service":"replay"}"#.utf8))
            })
        let configuration = try await store.append(
            to: "configuration-cfg-9", expectedVersion: .noStream,
            events: try group.map {
                NewEvent(type: $0.eventType, data: try $0.encodedData(), metadata: Data(#"{"service":"replay"}"#.utf8))
            })
        return max(instance.events.last!.logPosition, configuration.events.last!.logPosition)
    }

    /// Every read-model table's rows as JSON, in key order; without timestamps, rows any replay of the log gives.
    static func rows(_ client: PostgresClient, timestamps: Bool) async throws -> [String: [String]] {
        var rows: [String: [String]] = [:]
        for (table, order) in tables {
            let query = PostgresQuery(
                unsafeSQL: """
                    SELECT (SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(t))
                            WHERE \(timestamps) OR (key NOT LIKE '%\\_at' AND key NOT IN ('created', 'updated')))::text
                    FROM \(table) t ORDER BY \(order)
                    """)
            var lines: [String] = []
            for try await line in try await client.query(query, logger: TestServers.logger).decode(String?.self) {
                lines.append(line ?? "{}")
            }
            rows[table] = lines
        }
        return rows
    }
}

/// A JSON value as `JSONSerialization` holds it.
private struct AnyJSON: Decodable {
    var value: Any
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            value = NSNull()
        } else if let flag = try? container.decode(Bool.self) {
            value = flag
        } else if let number = try? container.decode(Int.self) {
            value = number
        } else if let number = try? container.decode(Double.self) {
            value = number
        } else if let text = try? container.decode(String.self) {
            value = text
        } else if let array = try? container.decode([AnyJSON].self) {
            value = array.map(\.value)
        } else {
            value = try container.decode([String: AnyJSON].self).mapValues(\.value)
        }
    }
}
