import EventStore
import Foundation
import Logging

/// Publishes the event log to `cellar.events`: the log is the outbox.
///
/// It reads gap-safely after its checkpoint, publishes a batch with publisher confirms, and only then moves the
/// checkpoint. If the relay, RabbitMQ or PostgreSQL dies at any point, the events after the checkpoint are
/// published again: nothing is lost, and consumers drop the duplicates by `message_id` (`event-<position>`).
public struct EventRelay: Sendable {
    /// The checkpoint's name.
    public static let checkpointName = "relay:cellar.events"

    let store: PostgresEventStore
    let publisher: BusPublisher
    let batchSize: Int
    let logger: Logger

    public init(store: PostgresEventStore, publisher: BusPublisher, batchSize: Int = 500, logger: Logger) {
        self.store = store
        self.publisher = publisher
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Relays until the task is cancelled; after a failure (broker or database away) it retries with backoff.
    public func run(pollInterval: Duration = .milliseconds(250)) async throws {
        try await store.whileListening(pollInterval: pollInterval) { waitForAppend in
            var backoff = Duration.milliseconds(100)
            while !Task.isCancelled {
                do {
                    if try await relayNextBatch() < batchSize { await waitForAppend() }
                    backoff = .milliseconds(100)
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("event relay paused", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(5))
                }
            }
        }
    }

    /// Publishes the next batch after the checkpoint and moves the checkpoint; returns how many were published.
    @discardableResult
    public func relayNextBatch() async throws -> Int {
        let checkpoint = try await store.checkpoint(named: Self.checkpointName)
        let events = try await store.readAll(after: checkpoint, limit: batchSize)
        guard let last = events.last else { return 0 }
        try await publisher.publish(try events.map(Self.message(for:)))
        try await store.saveCheckpoint(last.logPosition, named: Self.checkpointName)
        return events.count
    }

    /// The bus message for an event: routing key `<aggregate>.<EventType>`, id `event-<position>`.
    public static func message(for event: RecordedEvent) throws -> OutgoingMessage {
        OutgoingMessage(
            exchange: Topology.eventsExchange,
            routingKey: Topology.routingKey(streamID: event.streamID, eventType: event.type),
            body: try JSONEncoder().encode(PublishedEvent(event)),
            messageID: "event-\(event.globalPosition)",
            type: event.type,
            timestamp: event.recordedAt
        )
    }
}

/// The JSON body of an event on the bus.
public struct PublishedEvent: Codable, Sendable, Equatable {
    public var position: Int64
    public var stream: String
    public var version: Int
    public var type: String
    public var recordedAt: Date
    public var data: JSONValue
    public var metadata: JSONValue

    init(_ event: RecordedEvent) throws {
        position = event.globalPosition
        stream = event.streamID
        version = event.streamVersion
        type = event.type
        recordedAt = event.recordedAt
        data = try JSONDecoder().decode(JSONValue.self, from: event.data)
        metadata = try JSONDecoder().decode(JSONValue.self, from: event.metadata)
    }

    enum CodingKeys: String, CodingKey {
        case position, stream, version, type
        case recordedAt = "recorded_at"
        case data, metadata
    }
}
