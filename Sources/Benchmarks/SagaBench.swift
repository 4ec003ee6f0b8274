import ArgumentParser
import CellarCLI
import EventStore
import Foundation
import Lifecycle
import PostgresNIO

/// `cellar bench sagas`: no-op sagas of M steps through the real relay, bus, task manager and log (each trigger
/// appended, relayed to the task manager's queue, the saga started and run step by step, every transition
/// recorded), next to appending the same events straight to the log with the same concurrency, in one run.
struct SagaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sagas",
        abstract: "Saga transitions/s through relay, bus and task manager, next to raw appends of the same events."
    )

    @Option(help: "Sagas per run.") var sagas = 1000

    func run() async throws {
        let (sagas, steps) = (sagas, Saga.NoOp.Step.allCases.count)
        let (raw, engine) = try await BenchControlPlane.run(extraSagas: [(Saga.NoOp.triggerEventType, .noOp)]) { plane in
            _ = try await Self.runSagas(count: min(50, sagas), plane)  // warm-up: connections, plans, queues
            let raw = try await Self.appendDirectly(sagas: sagas, plane)
            let engine = try await Self.runSagas(count: sagas, plane)
            return (raw, engine)
        }
        let events = sagas * (2 * steps + 2)
        print(
            "cellar bench sagas: \(sagas) no-op sagas of \(steps) steps (\(2 * steps + 2) transitions each: started, each step started and succeeded, completed)"
        )
        print(
            TextTable.render(
                header: ["SCENARIO", "EVENTS", "SECONDS", "EVENTS/S", "VS RAW APPENDS"],
                rows: [
                    [
                        "raw appends of the same events, one per append, one writer per saga (baseline)", "\(events)",
                        BenchFigures.seconds(raw), String(format: "%.0f", Double(events) / raw), "baseline",
                    ],
                    [
                        "sagas: trigger appended, relayed over RabbitMQ, run by the task manager", "\(events)",
                        BenchFigures.seconds(engine), String(format: "%.0f", Double(events) / engine), BenchFigures.ratio(raw, to: engine),
                    ],
                ]))
    }

    /// Appends `count` triggers and waits until every saga they start has completed; the seconds that took.
    static func runSagas(count: Int, _ plane: BenchControlPlane) async throws -> Double {
        let ids = (0..<count).map { _ in UUID().uuidString.lowercased() }
        let before = try await finishedSagas(plane)
        let clock = ContinuousClock()
        let started = clock.now
        try await inParallel(ids) { id in
            _ = try await plane.store.append(
                to: "probe-\(id)", expectedVersion: .noStream,
                events: [
                    NewEvent(type: Saga.NoOp.triggerEventType, data: Data("{}".utf8), metadata: Data(#"{"service":"bench"}"#.utf8))
                ])
        }
        while true {
            let finished = try await finishedSagas(plane)
            if finished.failed > before.failed { throw ValidationError("\(finished.failed - before.failed) no-op sagas failed") }
            if finished.completed - before.completed >= count { break }
            if clock.now - started > .seconds(600) { throw ValidationError("the sagas did not finish within 600 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (clock.now - started).seconds
    }

    /// Appends the events `sagas` no-op sagas record, one append each with its expected version, one writer per
    /// saga; the seconds that took.
    static func appendDirectly(sagas: Int, _ plane: BenchControlPlane) async throws -> Double {
        let metadata = try JSONEncoder().encode(EventMetadata(service: "taskmanager", causationID: "saga-bench"))
        let streams = (0..<sagas).map { _ in UUID().uuidString.lowercased() }
        let clock = ContinuousClock()
        let started = clock.now
        try await inParallel(streams) { id in
            let start = Saga.Start(
                saga: Saga.Kind.noOp.rawValue, instanceId: "", clusterId: nil, triggerStream: "probe-\(id)", triggerVersion: 1,
                triggerType: Saga.NoOp.triggerEventType, requestId: nil)
            var events: [Saga.Event] = [.sagaStarted(start)]
            for step in Saga.NoOp.Step.allCases {
                events += [.stepStarted(.init(step: step.rawValue, attempt: 1)), .stepSucceeded(.init(step: step.rawValue, attempt: 1))]
            }
            events.append(.sagaCompleted)
            for (index, event) in events.enumerated() {
                _ = try await plane.store.append(
                    to: "rawsaga-\(id)", expectedVersion: index == 0 ? .noStream : .exact(index),
                    events: [
                        NewEvent(type: event.eventType, data: try event.encodedData(), metadata: metadata)
                    ])
            }
        }
        return (clock.now - started).seconds
    }

    /// Sagas completed and failed so far.
    static func finishedSagas(_ plane: BenchControlPlane) async throws -> (completed: Int, failed: Int) {
        let rows = try await plane.client.query(
            """
            SELECT count(*) FILTER (WHERE event_type = 'SagaCompleted'), count(*) FILTER (WHERE event_type = 'SagaFailed')
            FROM events WHERE stream_id LIKE 'saga-%' AND event_type IN ('SagaCompleted', 'SagaFailed')
            """, logger: plane.logger)
        for try await (completed, failed) in rows.decode((Int, Int).self) { return (completed, failed) }
        return (0, 0)
    }

    /// Runs `work` for every item, all at once.
    static func inParallel(_ items: [String], _ work: @escaping @Sendable (String) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for item in items { group.addTask { try await work(item) } }
            try await group.waitForAll()
        }
    }
}
