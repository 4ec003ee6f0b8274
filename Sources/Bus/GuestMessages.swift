import Foundation

extension Topology {
    /// A guest's report (`body`, JSON) on its way to the conductor: through `cellar.guest`, not persistent
    /// (a stale report is worth nothing).
    public static func guestReport(_ body: Data, messageID: String) -> OutgoingMessage {
        OutgoingMessage(exchange: guestExchange, routingKey: conductorQueue, body: body, messageID: messageID, type: "heartbeat", persistent: false)
    }

    /// Guest reports (heartbeats) for the conductor.
    public static let conductorQueue = "conductor"
    /// Saga triggers for the task manager.
    public static let taskManagerQueue = "taskmanager"

    /// The conductor's queue: heartbeats are worth nothing once stale, so a short delivery limit.
    public static let conductorQueueSpec = QueueSpec.workQueue(conductorQueue, deliveryLimit: 3)

    /// The queue a guest agent serves RPCs on.
    public static func guestQueue(_ instanceID: String) -> String { "guest.\(instanceID)" }

    /// Declares a guest's queue and its binding, so calls sent before the guest consumes wait for it.
    public static func declareGuestQueue(_ instanceID: String, with publisher: BusPublisher) async throws {
        let queue = guestQueue(instanceID)
        try await publisher.declare(RPCServer.queueSpec(queue), bindings: [Binding(exchange: rpcExchange, routingKey: queue)])
    }
}
