import Foundation

/// Publishes with publisher confirms: a publish returns only once the broker has the message (on disk, for
/// persistent messages on durable queues).
///
/// One connection on its own thread; it declares the shared topology, keeps the link alive with heartbeats and
/// reconnects with backoff after a broker restart. A publish that fails (connection lost, nack, no confirm in
/// time) throws; the caller retries, and consumers de-duplicate by `messageID`.
public final class BusPublisher: Sendable {
    private let thread: ConnectionThread
    private let confirms: Bool
    /// Whose connection this is (the RPC client's reply consumer takes the same).
    public let role: ConnectionRole

    /// Starts the connection thread (connecting in the background).
    /// - Parameters:
    ///   - confirms: false only for a benchmark baseline: publishes then return before the broker has them.
    ///   - role: a guest's connection declares nothing shared.
    public init(url: String, heartbeatSeconds: Int32 = 10, confirms: Bool = true, role: ConnectionRole) throws {
        let endpoint = try AMQPEndpoint(url: url)
        self.confirms = confirms
        self.role = role
        thread = ConnectionThread(
            name: "cellar.bus.publisher", endpoint: endpoint, heartbeatSeconds: heartbeatSeconds, idleWaitMilliseconds: 1000,
            setup: { connection in
                try role.declareShared(on: connection)
                if confirms { try connection.enableConfirms() }
            },
            idle: { slot in try slot.connected().keepAlive() }
        )
    }

    deinit { thread.stop() }

    /// Publishes every message, then waits once for the broker to confirm them all.
    public func publish(_ messages: [OutgoingMessage], confirmTimeout: Duration = .seconds(30)) async throws {
        guard !messages.isEmpty else { return }
        let confirms = self.confirms
        try await thread.perform { connection in
            var lastTag: UInt64 = 0
            for message in messages { lastTag = try connection.publish(message) }
            BusMetrics.published.increment(by: messages.count)
            if confirms { try connection.waitForConfirms(upTo: lastTag, timeout: confirmTimeout) }
        }
        if confirms { BusMetrics.confirmed.increment(by: messages.count) }
    }

    /// Publishes one message and waits for its confirm.
    public func publish(_ message: OutgoingMessage) async throws {
        try await publish([message])
    }

    /// Declares a queue (and its bindings) through this connection, e.g. before anyone consumes it.
    public func declare(_ queue: QueueSpec, bindings: [Binding] = []) async throws {
        try await thread.perform { connection in
            let name = try connection.declareQueue(queue)
            for binding in bindings { try connection.bind(queue: name, to: binding.exchange, routingKey: binding.routingKey) }
        }
    }

    /// Deletes a queue (operators and tests).
    public func deleteQueue(_ name: String) async throws {
        try await thread.perform { connection in try connection.deleteQueue(name) }
    }

    /// Empties a queue (operators; it needs read permission on the queue, as consuming does).
    public func purgeQueue(_ name: String) async throws {
        try await thread.perform { connection in try connection.purgeQueue(name) }
    }

    /// Connected or not, and the last error.
    public var status: BusStatus { BusStatus(thread.currentStatus) }

    /// Closes the connection after queued work.
    public func shutdown() { thread.stop() }
}

/// A queue binding: messages published to `exchange` with a matching `routingKey` reach the queue.
public struct Binding: Sendable, Equatable {
    public var exchange: String
    public var routingKey: String
    public init(exchange: String, routingKey: String) {
        self.exchange = exchange
        self.routingKey = routingKey
    }
}

/// A bus connection's state, for `/healthz`.
public struct BusStatus: Sendable, Equatable, Codable {
    public var connected: Bool
    public var lastError: String?

    init(_ status: ConnectionThread.Status) {
        connected = status.connected
        lastError = status.lastError
    }
}
