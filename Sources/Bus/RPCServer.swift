import EventStore
import Foundation

/// Serves RPCs from one queue (a guest agent's `guest.<instance_id>`): each request runs `handler`, and a call
/// (a request with `reply_to`) gets the result or the failure back. The request is acked only after the reply is
/// confirmed, so a crash in between means a redelivery: handlers must be idempotent (`message_id` helps).
public struct RPCServer: Sendable {
    public let url: String
    public let queue: String
    let publisher: BusPublisher
    let role: ConnectionRole

    public init(url: String, queue: String, publisher: BusPublisher, role: ConnectionRole) {
        self.url = url
        self.queue = queue
        self.publisher = publisher
        self.role = role
    }

    /// The queue a guest serves: durable, bound to `cellar.rpc` under its own name.
    public static func queueSpec(_ name: String) -> QueueSpec { .workQueue(name) }

    /// Serves until the calling task is cancelled.
    public func run(_ handler: @escaping @Sendable (RPCRequest) async throws -> JSONValue) async throws {
        // A guest's queue is bound by the control plane (`Topology.declareGuestQueue`); its broker user may not bind.
        let bindings: [Binding]
        if case .guest = role { bindings = [] } else { bindings = [Binding(exchange: Topology.rpcExchange, routingKey: queue)] }
        let consumer = BusConsumer(url: url, queue: Self.queueSpec(queue), bindings: bindings, prefetch: 10, role: role)
        let publisher = self.publisher
        try await consumer.run { delivery in
            var request = try JSONDecoder.rpc.decode(RPCRequest.self, from: delivery.body)
            request.redelivered = delivery.redelivered
            let reply: RPCReply
            if request.version.split(separator: ".").first != RPCRequest.currentVersion.split(separator: ".").first {
                reply = .failed(
                    RemoteFailure(
                        type: "UnsupportedVersion",
                        message: "envelope version \(request.version) is not supported; this side speaks \(RPCRequest.currentVersion)"))
            } else {
                do {
                    reply = .success(try await handler(request))
                } catch let failure as RemoteFailure {
                    reply = .failed(failure)
                } catch {
                    reply = .failed(RemoteFailure(type: String(describing: type(of: error)), message: "\(error)"))
                }
            }
            guard let replyTo = delivery.replyTo, let correlationID = delivery.correlationID else { return }
            try await publisher.publish(
                OutgoingMessage(
                    exchange: Topology.guestExchange, routingKey: replyTo, body: try JSONEncoder.rpc.encode(reply),
                    messageID: "reply-\(request.messageID)", correlationID: correlationID, type: "reply", persistent: false
                ))
        }
    }
}
