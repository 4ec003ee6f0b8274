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
            let files = try FileManager.default.contentsOfDirectory(atPath: Self.histories.path)
                .filter { $0.hasSuffix(".json") && !$0.hasPrefix("saga-") }.sorted()
            for file in files {
                let stored = try JSONDecoder().decode(Stored.self, from: Data(contentsOf: Self.histories.appendingPathComponent(file)))
                let stream = "\(stored.aggregate)-\(file.replacingOccurrences(of: ".json", with: ""))"
                let events = stored.events.map { NewEvent(type: $0.type, data: $0.data.data, metadata: Data(#"{"service":"replay"}"#.utf8)) }
                _ = try await store.append(to: stream, expectedVersion: .noStream, events: events)
            }
            let charts = try StatechartLibrary.load(directory: TestServers.projectRoot.appendingPathComponent("statecharts"))
            for projection in ReadModelProjections.all(charts: charts) {
                try await ProjectionRunner(store: store, projection: projection).rebuild()
            }
            var rows: [String: [String]] = [:]
            for (table, order) in Self.tables {
                let query = PostgresQuery(unsafeSQL: """
                    SELECT (SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(t))
                            WHERE key NOT LIKE '%\\_at' AND key NOT IN ('created', 'updated'))::text
                    FROM \(table) t ORDER BY \(order)
                    """)
                var lines: [String] = []
                for try await line in try await database.client.query(query, logger: TestServers.logger).decode(String?.self) {
                    lines.append(line ?? "{}")
                }
                rows[table] = lines
            }
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

/// A JSON value as `JSONSerialization` holds it.
private struct AnyJSON: Decodable {
    var value: Any
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { value = NSNull() }
        else if let flag = try? container.decode(Bool.self) { value = flag }
        else if let number = try? container.decode(Int.self) { value = number }
        else if let number = try? container.decode(Double.self) { value = number }
        else if let text = try? container.decode(String.self) { value = text }
        else if let array = try? container.decode([AnyJSON].self) { value = array.map(\.value) }
        else { value = try container.decode([String: AnyJSON].self).mapValues(\.value) }
    }
}
