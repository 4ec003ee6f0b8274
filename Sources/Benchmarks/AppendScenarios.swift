import CellarCLI
import EventStore
import Foundation
import Logging
import PostgresNIO

/// The scenarios of `cellar bench append`: each writes the same rows, through the event store or as plain INSERTs.
struct AppendScenarios: Sendable {
    let events: Int
    let batch: Int
    let writers: Int

    struct Result: Sendable {
        var name: String
        var baseline: String?
        var seconds: Double
        var events: Int
        var rate: Double { Double(events) / seconds }
    }

    func runAll(client: PostgresClient, logger: Logger) async throws -> [Result] {
        let notifying = PostgresEventStore(client: client, logger: logger, notifiesSubscribers: true)
        let quiet = PostgresEventStore(client: client, logger: logger, notifiesSubscribers: false)
        let single = "plain INSERT, 1 row/statement"
        let batched = "plain INSERT, \(batch) rows/statement"
        return [
            try await measure(single, baseline: nil, perCall: 1) { stream, first, rows in
                try await insertPlain(rows, stream: stream, firstVersion: first, client: client, logger: logger)
            },
            try await measure("append, 1 event, NOTIFY", baseline: single, perCall: 1) { stream, _, rows in
                _ = try await notifying.append(to: stream, expectedVersion: .any, events: rows)
            },
            try await measure("append, 1 event, no NOTIFY", baseline: single, perCall: 1) { stream, _, rows in
                _ = try await quiet.append(to: stream, expectedVersion: .any, events: rows)
            },
            try await measure(batched, baseline: nil, perCall: batch) { stream, first, rows in
                try await insertPlain(rows, stream: stream, firstVersion: first, client: client, logger: logger)
            },
            try await measure("append, \(batch) events, NOTIFY", baseline: batched, perCall: batch) { stream, _, rows in
                _ = try await notifying.append(to: stream, expectedVersion: .any, events: rows)
            },
        ]
    }

    /// Runs `writers` concurrent loops, each writing its share of `events` in calls of `perCall` rows; a call's rows
    /// are the versions from `firstVersion` + 1 of its stream (each writer's calls go round 50 streams of its own).
    private func measure(
        _ name: String, baseline: String?, perCall: Int,
        write: @Sendable @escaping (_ stream: String, _ firstVersion: Int, _ rows: [NewEvent]) async throws -> Void
    ) async throws -> Result {
        let callsPerWriter = max(1, events / writers / perCall)
        let tag = UUID().uuidString.prefix(8)
        let clock = ContinuousClock()
        let started = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for call in 0..<callsPerWriter {
                        let rows = (0..<perCall).map { Self.row(call * perCall + $0) }
                        try await write("bench-\(tag)-\(writer)-\(call % 50)", call * perCall, rows)
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(name: name, baseline: baseline, seconds: seconds, events: callsPerWriter * perCall * writers)
    }

    /// A row shaped like a real lifecycle event (about 200 bytes of data and metadata).
    static func row(_ index: Int) -> NewEvent {
        NewEvent(
            type: "InstanceHeartbeatRecorded",
            data: Data(#"{"instance_id": "5f0c9a7e-\#(index)", "status": "ACTIVE", "volume_used_gb": 0.41, "version": "15.4"}"#.utf8),
            metadata: Data(#"{"service": "bench", "request_id": "req-\#(index)", "schema_version": 1}"#.utf8)
        )
    }

    /// The same rows, as one plain multi-row INSERT with the versions computed client-side.
    private func insertPlain(_ rows: [NewEvent], stream: String, firstVersion first: Int, client: PostgresClient, logger: Logger) async throws {
        let types = rows.map(\.type)
        let data = rows.map { String(decoding: $0.data, as: UTF8.self) }
        let metadata = rows.map { String(decoding: $0.metadata, as: UTF8.self) }
        try await client.query(
            """
            INSERT INTO plain_events (stream_id, stream_version, event_type, data, metadata)
            SELECT \(stream), \(first) + e.ordinality, e.event_type, e.data::jsonb, e.metadata::jsonb
            FROM unnest(\(types)::text[], \(data)::text[], \(metadata)::text[]) WITH ORDINALITY AS e(event_type, data, metadata, ordinality)
            """, logger: logger)
    }

    static func table(_ results: [Result]) -> String {
        let rates = Dictionary(results.map { ($0.name, $0.rate) }) { first, _ in first }
        let rows = results.map { result -> [String] in
            let ratio = result.baseline.flatMap { rates[$0] }.map { String(format: "%.2f×", result.rate / $0) } ?? "baseline"
            return [result.name, "\(result.events)", String(format: "%.2f", result.seconds), String(format: "%.0f", result.rate), ratio]
        }
        return TextTable.render(header: ["SCENARIO", "EVENTS", "SECONDS", "EVENTS/S", "VS PLAIN INSERT"], rows: rows)
    }
}
