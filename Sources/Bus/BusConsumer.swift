import Foundation

/// Consumes a queue with manual acks: a delivery is acked after its handler returns, and handed back
/// (nack, requeue) when it throws; after `maxAttempts` failed deliveries it is rejected without requeue, which
/// dead-letters it to `cellar.dead`.
///
/// The connection lives on its own thread, reconnects with backoff after a broker restart and re-declares the
/// queue. Unacked deliveries of a lost connection are redelivered by the broker, so handlers must be idempotent
/// (`IdempotentConsumer` records handled message ids).
public struct BusConsumer: Sendable {
    public let url: String
    public let queue: QueueSpec
    public let bindings: [Binding]
    /// Unacked deliveries the broker sends ahead.
    public let prefetch: Int
    public let maxAttempts: Int
    /// A guest's consumer declares only its own queue.
    public let role: ConnectionRole

    public init(
        url: String, queue: QueueSpec, bindings: [Binding] = [], prefetch: Int = 100, maxAttempts: Int = 5,
        role: ConnectionRole
    ) {
        self.role = role
        self.url = url
        self.queue = queue
        self.bindings = bindings
        self.prefetch = prefetch
        self.maxAttempts = maxAttempts
    }

    /// Runs `handler` for each delivery, one at a time in delivery order, until the calling task is cancelled.
    public func run(_ handler: @escaping @Sendable (Delivery) async throws -> Void) async throws {
        let endpoint = try AMQPEndpoint(url: url)
        let (deliveries, continuation) = AsyncStream<(Delivery, generation: Int)>.makeStream()
        let (queue, bindings, prefetch, role) = (self.queue, self.bindings, self.prefetch, self.role)
        let thread = ConnectionThread(
            name: "cellar.bus.consumer.\(queue.name)", endpoint: endpoint, heartbeatSeconds: 10, idleWaitMilliseconds: 0,
            setup: { connection in
                try role.declareShared(on: connection)
                let name = try connection.declareQueue(queue)
                for binding in bindings { try connection.bind(queue: name, to: binding.exchange, routingKey: binding.routingKey) }
                try connection.setPrefetch(prefetch)
                try connection.startConsuming(name)
            },
            idle: { slot in
                if let delivery = try slot.connected().nextDelivery(waitingUpTo: 50) {
                    continuation.yield((delivery, slot.generation))
                }
            }
        )
        defer {
            thread.stop()
            continuation.finish()
        }
        try await withTaskCancellationHandler {
            for await (delivery, generation) in deliveries {
                BusMetrics.delivered.increment()
                if delivery.redelivered { BusMetrics.redelivered.increment() }
                let settle: Settlement
                do {
                    try await handler(delivery)
                    settle = .acknowledge
                } catch {
                    let attempt = delivery.deliveryCount + 1
                    settle = attempt >= maxAttempts ? .deadLetter : .retry
                    if settle == .deadLetter { BusMetrics.deadLettered.increment() }
                }
                thread.enqueue { slot in
                    // A tag belongs to the connection that delivered it; after a reconnect the broker redelivers.
                    guard slot.generation == generation, let connection = slot.connection else { return }
                    do {
                        switch settle {
                        case .acknowledge: try connection.acknowledge(delivery.deliveryTag)
                        case .retry: try connection.reject(delivery.deliveryTag, requeue: true)
                        case .deadLetter: try connection.reject(delivery.deliveryTag, requeue: false)
                        }
                    } catch {
                        slot.discard(after: error)
                    }
                }
                try Task.checkCancellation()
            }
        } onCancel: {
            continuation.finish()
        }
    }

    private enum Settlement: Sendable { case acknowledge, retry, deadLetter }
}
