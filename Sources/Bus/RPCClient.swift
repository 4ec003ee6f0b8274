import EventStore
import Foundation
import Synchronization

/// Calls guest agents over RabbitMQ: requests go to `cellar.rpc` with routing key `guest.<instance_id>`, replies
/// come back on this client's own reply queue, matched by `correlation_id`.
///
/// `run()` must be running (it consumes the replies) for `call` to get answers.
public final class RPCClient: Sendable {
    private let url: String
    private let publisher: BusPublisher
    /// `rpc.reply.<uuid>`: one per client process.
    public let replyQueue: String
    /// Waiting calls by correlation id, with the guest each one called (nil: not a guest).
    private let pending = Mutex<[String: (waiter: AsyncThrowingStream<RPCReply, any Error>.Continuation, guest: String?)]>([:])
    /// The control plane's broker user (this client's).
    private let controlPlaneUser: String
    private let declared = Mutex(false)

    public init(url: String, publisher: BusPublisher, clientID: String = UUID().uuidString.lowercased()) {
        self.url = url
        self.publisher = publisher
        self.replyQueue = "rpc.reply.\(clientID)"
        controlPlaneUser = (try? AMQPEndpoint(url: url))?.user ?? ""
    }

    /// Consumes replies until cancelled.
    public func run() async throws {
        try await ensureReplyQueue()
        let consumer = BusConsumer(
            url: url, queue: .replyQueue(replyQueue), bindings: Topology.replyBindings(replyQueue), prefetch: 100,
            role: publisher.role)
        try await consumer.run { [self] delivery in
            guard let correlationID = delivery.correlationID,
                let call = pending.withLock({ $0[correlationID] })
            else { return }  // none, or the call timed out already
            // Only the called guest (or the control plane) answers: a reply from another broker user is dropped.
            let sender =
                call.guest.map { Topology.speaksFor(instanceID: $0, userID: delivery.userID, controlPlaneUser: controlPlaneUser) }
                ?? (delivery.userID == controlPlaneUser)
            guard sender else { return }
            guard let waiter = pending.withLock({ $0.removeValue(forKey: correlationID)?.waiter }) else { return }
            do {
                waiter.yield(try JSONDecoder.rpc.decode(RPCReply.self, from: delivery.body))
                waiter.finish()
            } catch {
                waiter.finish(throwing: BusError(.refused, "unreadable reply to \(correlationID): \(error)"))
            }
        }
    }

    /// Sends `method` to `destination` (a queue such as `guest.<id>`) and waits for its result.
    ///
    /// - Throws: `RPCTimeout` when no reply came in time, `RemoteFailure` when the remote side failed,
    ///   `BusError` when the request could not be published.
    public func call(
        _ destination: String, method: String, args: JSONValue = .object([:]), timeout: Duration = .seconds(30)
    ) async throws -> JSONValue {
        try await ensureReplyQueue()
        let request = RPCRequest(method: method, args: args, messageID: UUID().uuidString.lowercased(), sentAt: Date())
        let correlationID = request.messageID
        let message = OutgoingMessage(
            exchange: Topology.rpcExchange, routingKey: destination, body: try JSONEncoder.rpc.encode(request),
            messageID: request.messageID, correlationID: correlationID, replyTo: replyQueue, type: method,
            // A call is worth nothing after its timeout (the caller retries), and it may carry passwords for a
            // guest: it is never written to the broker's disk.
            persistent: false
        )
        // Registered before publishing, so even an instant reply finds its waiter.
        let (replies, waiter) = AsyncThrowingStream<RPCReply, any Error>.makeStream()
        pending.withLock { $0[correlationID] = (waiter, Topology.instanceID(ofGuestQueue: destination)) }
        defer { pending.withLock { _ = $0.removeValue(forKey: correlationID) } }
        try await publisher.publish(message)
        let reply: RPCReply? =
            try await withDeadline(timeout) {
                for try await reply in replies { return reply }
                return nil
            } ?? nil
        guard let reply else { throw RPCTimeout(destination: destination, method: method, timeout: timeout) }
        if let failure = reply.failure { throw failure }
        return reply.result ?? .null
    }

    /// Sends `method` to `destination` without waiting for an answer (the broker has it when this returns).
    public func cast(_ destination: String, method: String, args: JSONValue = .object([:])) async throws {
        let request = RPCRequest(method: method, args: args, messageID: UUID().uuidString.lowercased(), sentAt: Date())
        try await publisher.publish(
            OutgoingMessage(
                exchange: Topology.rpcExchange, routingKey: destination, body: try JSONEncoder.rpc.encode(request),
                messageID: request.messageID, type: method
            ))
    }

    private func ensureReplyQueue() async throws {
        guard !declared.withLock({ $0 }) else { return }
        try await publisher.declare(.replyQueue(replyQueue), bindings: Topology.replyBindings(replyQueue))
        declared.withLock { $0 = true }
    }
}
