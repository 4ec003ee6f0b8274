import Bus
import CellarTestSupport
import Foundation
import Testing

@Suite("Publishing and consuming", .tags(.rabbitMQ))
struct PublishConsumeTests {
    @Test("confirmed publishes arrive in order with their ids; acked messages are not delivered again")
    func roundTrip() async throws {
        let url = try await TestServers.amqpURL()
        let queue = uniqueQueue("roundtrip")
        let publisher = try BusPublisher(url: url, role: controlPlane)
        defer { publisher.shutdown() }
        try await publisher.declare(.workQueue(queue))
        try await publisher.publish((1...50).map { message(to: queue, id: "m-\($0)", body: #"{"n": \#($0)}"#) })
        try await publisher.publish(message(to: queue, id: "m-51"))

        let consumer = BusConsumer(url: url, queue: .workQueue(queue), prefetch: 10, role: controlPlane)
        let ids = try await collect(consumer, count: 51) { $0.messageID ?? "?" }
        #expect(ids == (1...51).map { "m-\($0)" })
        // Everything was acked: a second consumer finds nothing.
        let again = try await collect(consumer, count: 1, timeout: .seconds(1)) { $0.messageID }
        #expect(again.isEmpty)
        try await publisher.deleteQueue(queue)
    }

    @Test("a handler that keeps throwing: the message is retried, then dead-lettered to cellar.dead")
    func deadLetterAfterAttempts() async throws {
        let url = try await TestServers.amqpURL()
        let queue = uniqueQueue("poison")
        let publisher = try BusPublisher(url: url, role: controlPlane)
        defer { publisher.shutdown() }
        try await publisher.declare(.workQueue(queue))
        let id = "poison-\(UUID().uuidString)"
        try await publisher.publish(message(to: queue, id: id))

        struct Boom: Error {}
        let attempts = Locked(0)
        let consumer = BusConsumer(url: url, queue: .workQueue(queue), maxAttempts: 3, role: controlPlane)
        let task = Task {
            try await consumer.run { _ in
                attempts.withLock { $0 += 1 }
                throw Boom()
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while attempts.withLock({ $0 }) < 3 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(500))
        task.cancel()
        #expect(attempts.withLock { $0 } == 3)

        let deadLetters = BusConsumer(url: url, queue: Topology.deadLetterQueueSpec, role: controlPlane)
        let found = try await collect(deadLetters, count: 1, timeout: .seconds(10)) { $0.messageID }
        #expect(found.contains(id))
        try await publisher.deleteQueue(queue)
    }
}
