import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// A large, realistic event log for `cellar bench log`: instance lifecycles (created, restarted, resized) with the
/// sagas that ran them, as the real code encodes them, across 100 projects and 1,000 users. One lifecycle is
/// encoded once as a template; PostgreSQL copies it per instance with fresh ids (`md5` of the instance's number).
struct SyntheticLog {
    let client: PostgresClient
    let logger: Logger

    /// When the first instance's events are recorded (instance n: n seconds later).
    static let firstRecorded: TimeInterval = 1_780_000_000
    static func project(_ n: Int) -> String { "proj-\(n % 100)" }
    static func user(_ n: Int) -> String { "user-\(n % 1000)" }

    /// One lifecycle's events: (stream kind: instance or one of its three sagas, stream version, type, data, metadata).
    static let template: [(kind: String, version: Int, type: String, data: String, metadata: String)] = {
        let spec = Instance.Spec(
            id: "@@IID@@", projectId: "@@PROJ@@", name: "orders", flavorId: "2", volumeSize: 2,
            datastore: Datastore(type: "postgresql", version: "15"), databases: [Instance.DatabaseSpec(name: "orders")],
            users: [Instance.UserSpec(name: "app", host: "%", databases: ["orders"], passwordSet: true)],
            configurationId: nil, replicaOf: nil, createdAt: Date(timeIntervalSince1970: firstRecorded))
        let user = EventMetadata(actor: .init(userID: "@@USER@@", projectID: "@@PROJ@@", roles: ["member"]), requestID: "req-@@IID@@")
        let service = { (name: String) in EventMetadata(service: name, requestID: "req-@@IID@@", correlationID: "req-@@IID@@") }
        var rows: [(String, Int, String, String, String)] = []
        var versions: [String: Int] = [:]
        func add(_ kind: String, _ event: some DomainEvent, _ metadata: EventMetadata) {
            versions[kind, default: 0] += 1
            let data = String(decoding: (try? event.encodedData()) ?? Data("{}".utf8), as: UTF8.self)
            let meta = String(decoding: (try? JSONEncoder().encode(metadata)) ?? Data("{}".utf8), as: UTF8.self)
            rows.append((kind, versions[kind]!, event.eventType, data, meta))
        }
        func saga<Program: SagaProgram>(
            _ kind: String, _ program: Program.Type, trigger: String, version: Int, steps: [(Program.Step, Instance.Event?)]
        ) {
            let start = Saga.Start(
                saga: program.kind.rawValue, instanceId: "@@IID@@", clusterId: nil, triggerStream: "instance-@@IID@@",
                triggerVersion: version, triggerType: trigger, requestId: "req-@@IID@@")
            add(kind, Saga.Event.sagaStarted(start), service("taskmanager"))
            for (step, fact) in steps {
                add(kind, Saga.Event.stepStarted(.init(step: step.rawValue, attempt: 1)), service("taskmanager"))
                if let fact { add("i", fact, service(fact == .guestRegistered ? "conductor" : "taskmanager")) }
                add(kind, Saga.Event.stepSucceeded(.init(step: step.rawValue, attempt: 1)), service("taskmanager"))
            }
            add(kind, Saga.Event.sagaCompleted, service("taskmanager"))
        }
        add("i", Instance.Event.instanceCreateRequested(spec), user)
        saga(
            "c", Saga.CreateInstance.self, trigger: "InstanceCreateRequested", version: 1,
            steps: [
                (.allocateCompute, .computeAllocated(.init(serverId: "srv-@@IID@@", address: "127.42.0.9"))),
                (.awaitGuestRegistration, .guestRegistered), (.prepareDatastore, nil), (.markActive, .instanceBecameActive),
            ])
        add("i", Instance.Event.restartRequested, user)
        saga(
            "r", Saga.RestartInstance.self, trigger: "RestartRequested", version: versions["i"]!,
            steps: [
                (.restartDatastore, nil), (.markRestarted, .instanceRestarted),
            ])
        add("i", Instance.Event.flavorResizeRequested(.init(flavorId: "3")), user)
        saga(
            "f", Saga.ResizeFlavor.self, trigger: "FlavorResizeRequested", version: versions["i"]!,
            steps: [
                (.applyFlavor, nil), (.markFlavorResized, .flavorResized(.init(flavorId: "3"))),
            ])
        return rows
    }()

    static var eventsPerInstance: Int { template.count }

    /// Writes whole lifecycles until at least `events` events are in the log; returns how many instances.
    func write(events: Int) async throws -> Int {
        let instances = max(1, (events + Self.eventsPerInstance - 1) / Self.eventsPerInstance)
        try await client.query(
            "CREATE TABLE bench_template (ord int, kind text, version int, event_type text, data text, metadata text)", logger: logger)
        for (ord, row) in Self.template.enumerated() {
            try await client.query(
                """
                INSERT INTO bench_template VALUES (\(ord), \(row.kind), \(row.version), \(row.type), \(row.data), \(row.metadata))
                """, logger: logger)
        }
        let chunk = 2000
        for first in stride(from: 0, to: instances, by: chunk) {
            let last = min(instances, first + chunk) - 1
            try await client.query(
                """
                INSERT INTO events (stream_id, stream_version, event_type, data, metadata, recorded_at)
                SELECT CASE t.kind WHEN 'i' THEN 'instance-' || ids.i WHEN 'c' THEN 'saga-' || ids.c
                                   WHEN 'r' THEN 'saga-' || ids.r ELSE 'saga-' || ids.f END,
                       t.version, t.event_type,
                       replace(replace(replace(t.data, '@@IID@@', ids.i), '@@PROJ@@', ids.project), '@@USER@@', ids.usr)::jsonb,
                       replace(replace(replace(t.metadata, '@@IID@@', ids.i), '@@PROJ@@', ids.project), '@@USER@@', ids.usr)::jsonb,
                       to_timestamp(\(Self.firstRecorded) + g + t.ord / 1000.0)
                FROM generate_series(\(first), \(last)) AS g
                CROSS JOIN LATERAL (SELECT md5('i' || g)::uuid::text AS i, md5('c' || g)::uuid::text AS c,
                                           md5('r' || g)::uuid::text AS r, md5('f' || g)::uuid::text AS f,
                                           'proj-' || (g % 100) AS project, 'user-' || (g % 1000) AS usr) AS ids
                CROSS JOIN bench_template t
                ORDER BY g, t.ord
                """, logger: logger)
        }
        try await client.query("DROP TABLE bench_template", logger: logger)
        try await client.query("ANALYZE events", logger: logger)
        return instances
    }

    func count() async throws -> Int {
        for try await count in try await client.query("SELECT count(*)::int FROM events", logger: logger).decode(Int.self) { return count }
        return 0
    }

    /// Some instances' ids (for queries about one instance).
    func sampleInstanceIDs(_ limit: Int) async throws -> [String] {
        var ids: [String] = []
        for try await id in try await client.query("SELECT id FROM instances ORDER BY random() LIMIT \(limit)", logger: logger).decode(String.self) {
            ids.append(id)
        }
        return ids
    }
}
