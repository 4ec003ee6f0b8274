import CellarTestSupport
import EventStore
import Foundation
import Logging
import PostgresNIO
import Testing

@Suite("Projections", .tags(.postgres))
struct ProjectionTests {
    @Test("a projection kept live while writers append equals the same projection rebuilt from zero")
    func rebuildEqualsLive() async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            let runner = ProjectionRunner(store: store, projection: StreamCatalogProjection(), batchSize: 7)
            let live = Task { try await runner.run(pollInterval: .milliseconds(20)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for index in 0..<25 {
                            _ = try await store.append(
                                to: "cat\(writer % 2)-\(index % 6)", expectedVersion: .any,
                                events: [sample("Step\(index)", n: index)])
                        }
                    }
                }
                try await group.waitForAll()
            }
            let total = try await readAllEventually(store, atLeast: 100)
            let deadline = ContinuousClock.now + .seconds(30)
            while try await runner.checkpoint() != total.last!.logPosition && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            live.cancel()
            let liveRows = try await catalogRows(database.client)
            #expect(liveRows.count == 12)

            try await ReadModelRebuild(store: store, projections: [StreamCatalogProjection()], batchSize: 7).run()
            #expect(try await catalogRows(database.client) == liveRows)
            #expect(try await runner.checkpoint() == total.last!.logPosition)
            #expect(try await store.streams(category: "cat0").count == 6)
        }
    }

    @Test("the checkpoint moves only together with the projection's writes")
    func checkpointIsTransactional() async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            struct Failing: Projection {
                let name = "failing"
                let tables: [String] = []
                func apply(_ event: RecordedEvent, on connection: PostgresConnection, logger: Logger) async throws {
                    try await connection.query("INSERT INTO stream_catalog VALUES ('x', 'x', 1, 'x', now(), now())", logger: logger)
                    if number(of: event) == 2 { throw CancellationError() }
                }
            }
            for n in 1...3 { _ = try await store.append(to: "f-\(n)", expectedVersion: .noStream, events: [sample(n: n)]) }
            _ = try await readAllEventually(store, atLeast: 3)
            let runner = ProjectionRunner(store: store, projection: Failing())
            await #expect(throws: (any Error).self) { try await runner.catchUp() }
            #expect(try await runner.checkpoint() == .start)
            #expect(try await catalogRows(database.client).isEmpty)
        }
    }

    @Test("a rebuild that fails leaves the read models and checkpoints it had")
    func failedRebuildKeepsReadModels() async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            for n in 1...5 { _ = try await store.append(to: "f-\(n)", expectedVersion: .noStream, events: [sample(n: n)]) }
            let events = try await readAllEventually(store, atLeast: 5)
            let runner = ProjectionRunner(store: store, projection: StreamCatalogProjection())
            let deadline = ContinuousClock.now + .seconds(30)
            while try await runner.checkpoint() != events.last!.logPosition && ContinuousClock.now < deadline {
                try await runner.catchUp()
            }
            let before = try await catalogRows(database.client)
            #expect(before.count == 5)
            struct FailsAtFour: Projection {
                let name = "fails-at-four"
                let tables: [String] = []
                func apply(_ event: RecordedEvent, on connection: PostgresConnection, logger: Logger) async throws {
                    if number(of: event) == 4 { throw CancellationError() }
                }
            }
            let rebuild = ReadModelRebuild(store: store, projections: [StreamCatalogProjection(), FailsAtFour()], batchSize: 2)
            await #expect(throws: CancellationError.self) { try await rebuild.run() }
            #expect(try await catalogRows(database.client) == before)
            #expect(try await runner.checkpoint() == events.last!.logPosition)
        }
    }

    private func catalogRows(_ client: PostgresClient) async throws -> [String] {
        let rows = try await client.query(
            """
            SELECT stream_id || '|' || category || '|' || version || '|' || last_event_type || '|' ||
                   first_recorded_at || '|' || last_recorded_at FROM stream_catalog ORDER BY stream_id
            """, logger: TestServers.logger)
        var result: [String] = []
        for try await row in rows.decode(String.self) { result.append(row) }
        return result
    }
}
