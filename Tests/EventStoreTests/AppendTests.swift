import CellarTestSupport
import EventStore
import Foundation
import PostgresNIO
import Testing

@Suite("Appending and reading streams", .tags(.postgres))
struct AppendTests {
    @Test("events come back from their stream in order, with versions, payload and metadata")
    func appendAndRead() async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            let result = try await store.append(
                to: "instance-1", expectedVersion: .noStream,
                events: [sample(n: 1), sample(n: 2), sample("Other", n: 3)])
            #expect(result.streamVersion == 3)
            let events = try await store.readStream("instance-1")
            #expect(events.map(\.streamVersion) == [1, 2, 3])
            #expect(events.map(number) == [1, 2, 3])
            #expect(events.map(\.type) == ["SomethingHappened", "SomethingHappened", "Other"])
            #expect(events.first?.decodedMetadata?.service == "tests")
            #expect(events.first?.category == "instance")
            #expect(events.map(\.logPosition) == result.events.map(\.logPosition))
            #expect(events.map(\.recordedAt) == result.events.map(\.recordedAt))
            #expect(try await store.version(of: "instance-1") == 3)
            #expect(try await store.version(of: "instance-unknown") == 0)
        }
    }

    @Test("an append with a stale or wrong expected version is refused and writes nothing")
    func expectedVersionIsChecked() async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            _ = try await store.append(to: "s-1", expectedVersion: .noStream, events: [sample(), sample()])
            await #expect(throws: WrongExpectedVersion(streamID: "s-1", expected: .noStream, actual: 2)) {
                try await store.append(to: "s-1", expectedVersion: .noStream, events: [sample()])
            }
            await #expect(throws: WrongExpectedVersion(streamID: "s-1", expected: .exact(1), actual: 2)) {
                try await store.append(to: "s-1", expectedVersion: .exact(1), events: [sample()])
            }
            // Expecting a version the stream has not reached must not leave a gap in the stream.
            await #expect(throws: WrongExpectedVersion(streamID: "s-1", expected: .exact(5), actual: 2)) {
                try await store.append(to: "s-1", expectedVersion: .exact(5), events: [sample()])
            }
            #expect(try await store.readStream("s-1").count == 2)
            let appended = try await store.append(to: "s-1", expectedVersion: .any, events: [sample()])
            #expect(appended.streamVersion == 3)
            await #expect(throws: InvalidAppend.self) {
                try await store.append(to: "s-1", expectedVersion: .any, events: [])
            }
        }
    }

    @Test("of two writers expecting the same version, exactly one wins; the other gets WrongExpectedVersion")
    func optimisticConcurrency() async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            for round in 0..<20 {
                let stream = "race-\(round)"
                _ = try await store.append(to: stream, expectedVersion: .noStream, events: [sample()])
                let outcomes = await withTaskGroup(of: Result<Int, any Error>.self) { group in
                    for writer in 0..<2 {
                        group.addTask {
                            do {
                                return .success(
                                    try await store.append(to: stream, expectedVersion: .exact(1), events: [sample(n: writer)]).streamVersion)
                            } catch {
                                return .failure(error)
                            }
                        }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                let winners = outcomes.compactMap { try? $0.get() }
                let losers = outcomes.compactMap { outcome -> WrongExpectedVersion? in
                    if case .failure(let error) = outcome { return error as? WrongExpectedVersion }
                    return nil
                }
                #expect(winners == [2], "round \(round)")
                #expect(losers == [WrongExpectedVersion(streamID: stream, expected: .exact(1), actual: 2)], "round \(round)")
                #expect(try await store.readStream(stream).count == 2)
            }
        }
    }

    @Test("the database itself refuses UPDATE, DELETE and TRUNCATE on events")
    func eventsAreAppendOnly() async throws {
        try await TestDatabase.with { database in
            _ = try await database.eventStore().append(to: "s-1", expectedVersion: .noStream, events: [sample()])
            for statement in ["UPDATE events SET event_type = 'Forged'", "DELETE FROM events", "TRUNCATE events"] {
                do {
                    try await database.client.query(PostgresQuery(unsafeSQL: statement), logger: TestServers.logger)
                    Issue.record("\(statement) succeeded")
                } catch let error as PSQLError {
                    #expect(error.serverInfo?[.message]?.contains("events is append-only") == true, "\(statement)")
                }
            }
            #expect(try await database.eventStore().readStream("s-1").map(\.type) == ["SomethingHappened"])
        }
    }

    @Test("an append inside the caller's transaction rolls back with it")
    func appendInTransaction() async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            struct Abort: Error {}
            await #expect(throws: (any Error).self) {
                try await database.client.withTransaction(logger: TestServers.logger) { connection in
                    _ = try await store.append(to: "tx-1", expectedVersion: .noStream, events: [sample()], on: connection)
                    throw Abort()
                }
            }
            #expect(try await store.version(of: "tx-1") == 0)
            try await database.client.withTransaction(logger: TestServers.logger) { connection in
                _ = try await store.append(to: "tx-1", expectedVersion: .noStream, events: [sample()], on: connection)
            }
            #expect(try await store.version(of: "tx-1") == 1)
        }
    }
}
