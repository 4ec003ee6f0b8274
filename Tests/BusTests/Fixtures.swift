import Bus
import CellarTestSupport
import Foundation
import Lifecycle
import Testing

/// A queue name no other test uses.
func uniqueQueue(_ purpose: String) -> String { "test.\(purpose).\(UUID().uuidString.prefix(8))" }

/// A JSON message to the default exchange's direct route into `queue`.
func message(to queue: String, id: String, body: String = "{}") -> OutgoingMessage {
    OutgoingMessage(exchange: "", routingKey: queue, body: Data(body.utf8), messageID: id)
}

/// Consumes `consumer` in the background, collecting what `handler` returns, until `count` are collected or
/// `timeout` passes.
func collect<T: Sendable>(
    _ consumer: BusConsumer, count: Int, timeout: Duration = .seconds(30),
    handler: @escaping @Sendable (Delivery) async throws -> T
) async throws -> [T] {
    let results = Locked<[T]>([])
    let task = Task {
        try await consumer.run { delivery in
            let result = try await handler(delivery)
            results.withLock { $0.append(result) }
        }
    }
    defer { task.cancel() }
    let deadline = ContinuousClock.now + timeout
    while results.withLock({ $0.count }) < count && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(20))
    }
    return results.withLock { $0 }
}

/// The control plane's connections, binding the task manager's queue to the product's saga triggers.
let controlPlane = ConnectionRole.controlPlane(sagaTriggers: Saga.Kind.triggerRoutingKeys)
