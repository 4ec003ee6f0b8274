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

    /// Declares a guest's queue and its binding (the control plane, before the guest starts: a guest may not
    /// bind, or it could bind its queue to another guest's calls), so calls sent before the guest consumes wait.
    public static func declareGuestQueue(_ instanceID: String, with publisher: BusPublisher) async throws {
        let queue = guestQueue(instanceID)
        try await publisher.declare(RPCServer.queueSpec(queue), bindings: [Binding(exchange: rpcExchange, routingKey: queue)])
    }

    /// Whether a message whose broker-validated `user_id` is `userID` may speak for the guest of `instanceID`
    /// (a report about it, a reply from it): that guest's own broker user, or the control plane's (whose user the
    /// guests share when no management API gave them their own). A message without `user_id` speaks for no one.
    public static func speaksFor(instanceID: String, userID: String?, controlPlaneUser: String) -> Bool {
        guard let userID else { return false }
        return userID == BrokerAccounts.guestUser(instanceID) || userID == controlPlaneUser
    }

    /// The instance whose guest serves `queue` (`guest.<id>`), if it is a guest's queue.
    public static func instanceID(ofGuestQueue queue: String) -> String? {
        queue.hasPrefix("guest.") ? String(queue.dropFirst("guest.".count)) : nil
    }
}
