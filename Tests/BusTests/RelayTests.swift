import Bus
import CellarTestSupport
import EventStore
import Foundation
import PostgresNIO
import Testing

/// The log is the outbox: whatever dies, every event reaches the consumer's effects exactly once.
@Suite("Event relay", .tags(.rabbitMQ, .postgres))
struct RelayTests {
    static let total = 10_000

    @Test("RabbitMQ stopped and started in the middle of a 10,000-event relay: 10,000 effects, none missing, none doubled")
    func brokerRestart() async throws {
        let broker = try await PrivateBroker.start()
        do {
            try await relayScenario(broker: broker) { progress, relay in
                try await progress.waitFor(atLeast: 2_000)
                try await broker.restart()
                return relay
            }
        } catch {
            await broker.stop()
            throw error
        }
        await broker.stop()
    }

    @Test("the relay killed and restarted mid-stream: 10,000 effects, none missing, none doubled")
    func relayRestart() async throws {
        let broker = try await PrivateBroker.start()
        do {
            try await relayScenario(broker: broker) { progress, relay in
                try await progress.waitFor(atLeast: 3_000)
                relay.cancel()
                _ = await relay.result
                // The worst moment to die: a batch published and confirmed, the checkpoint not yet moved. Put the
                // checkpoint back by one batch, as if its save had been lost.
                try await progress.client.query(
                    """
                    UPDATE projection_checkpoints c SET (tx_id, global_position) = (
                        SELECT e.tx_id, e.global_position FROM events e
                        WHERE (e.tx_id, e.global_position) <= (c.tx_id, c.global_position)
                        ORDER BY e.tx_id DESC, e.global_position DESC OFFSET 250 LIMIT 1)
                    WHERE c.name = \(EventRelay.checkpointName)
                    """, logger: TestServers.logger)
                return nil  // the scenario starts a fresh relay, which publishes that batch again
            }
        } catch {
            await broker.stop()
            throw error
        }
        await broker.stop()
    }

    /// Appends `total` events (half before, half during the relay), relays them to a queue whose consumer
    /// records each in an effect table through the inbox, and runs `disrupt` in the middle. `disrupt` returns
    /// the relay task to keep, or nil to have a new relay started.
    private func relayScenario(
        broker: PrivateBroker,
        disrupt: @escaping @Sendable (Progress, Task<Void, any Error>) async throws -> Task<Void, any Error>?
    ) async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            let logger = TestServers.logger
            try await database.client.query("CREATE TABLE relay_effects (message_id text NOT NULL, position bigint NOT NULL)", logger: logger)
            try await appendEvents(store, streams: 0..<50)

            let publisher = try BusPublisher(url: broker.url, role: controlPlane)
            defer { publisher.shutdown() }
            let queue = QueueSpec.workQueue("test.relay.effects")
            let bindings = [Binding(exchange: Topology.eventsExchange, routingKey: "#")]
            try await publisher.declare(queue, bindings: bindings)

            let inbox = IdempotentConsumer(name: "relay-test", client: database.client, logger: logger)
            let duplicates = Locked(0)
            let consumer = Task {
                try await BusConsumer(url: broker.url, queue: queue, bindings: bindings, prefetch: 200, role: controlPlane).run { delivery in
                    let event = try JSONDecoder().decode(PublishedEvent.self, from: delivery.body)
                    let isNew = try await inbox.handle(delivery) { connection in
                        try await connection.query(
                            "INSERT INTO relay_effects VALUES (\(delivery.messageID ?? ""), \(event.position))", logger: logger)
                    }
                    if !isNew { duplicates.withLock { $0 += 1 } }
                }
            }
            defer { consumer.cancel() }
            let relay = EventRelay(store: store, publisher: publisher, batchSize: 250, logger: logger)
            let firstRelay = Task { try await relay.run(pollInterval: .milliseconds(50)) }
            let lateAppends = Task { try await appendEvents(store, streams: 50..<100) }

            let progress = Progress(client: database.client)
            let kept = try await disrupt(progress, firstRelay)
            let secondRelay = kept == nil ? Task { try await relay.run(pollInterval: .milliseconds(50)) } : nil
            defer {
                firstRelay.cancel()
                secondRelay?.cancel()
            }
            try await lateAppends.value
            try await progress.waitFor(atLeast: Self.total, timeout: .seconds(180))
            try await Task.sleep(for: .seconds(1))  // a late duplicate would show up now

            let (rows, distinct) = try await progress.counts()
            #expect(rows == Self.total, "effect rows")
            #expect(distinct == Self.total, "distinct events")
            let dropped = duplicates.withLock { $0 }
            print("relay test: \(dropped) duplicate deliveries dropped by the inbox")
            #expect(dropped > 0, "the disruption really caused redeliveries")
        }
    }

    private func appendEvents(_ store: PostgresEventStore, streams: Range<Int>) async throws {
        for stream in streams {
            let events = (0..<100).map { NewEvent(type: "Counted", data: Data(#"{"n": \#($0)}"#.utf8)) }
            _ = try await store.append(to: "relaytest-\(stream)", expectedVersion: .noStream, events: events)
        }
    }

    /// Watches the effect table.
    struct Progress: Sendable {
        let client: PostgresClient

        func counts() async throws -> (rows: Int, distinct: Int) {
            let rows = try await client.query("SELECT count(*)::int, count(DISTINCT position)::int FROM relay_effects", logger: TestServers.logger)
            for try await counts in rows.decode((Int, Int).self) { return counts }
            return (0, 0)
        }

        func waitFor(atLeast count: Int, timeout: Duration = .seconds(120)) async throws {
            let deadline = ContinuousClock.now + timeout
            while try await counts().rows < count {
                guard ContinuousClock.now < deadline else {
                    throw CancellationError()
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}
