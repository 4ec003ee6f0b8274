import CRabbitMQ
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One AMQP connection with one channel, over librabbitmq.
///
/// librabbitmq is blocking and not thread-safe, so an instance is created, used and released by exactly one
/// thread (`ConnectionThread`); it is deliberately not `Sendable`.
final class AMQPConnection {
    private let state: amqp_connection_state_t
    private var loggedIn = false
    private var channelOpen = false
    private let channel: amqp_channel_t = 1
    /// The user this connection logged in as; every publish carries it as `user_id`, which the broker validates.
    let user: String
    private var nextPublishTag: UInt64 = 1
    private var lowestUnconfirmed: UInt64 = 1
    private var confirmedOutOfOrder: Set<UInt64> = []

    /// Connects, logs in and opens channel 1. Heartbeats are sent and checked whenever the connection is used,
    /// so a broken link is noticed within about two heartbeat intervals.
    init(endpoint: AMQPEndpoint, heartbeatSeconds: Int32 = 10, connectTimeoutSeconds: Int = 5) throws {
        guard let state = amqp_new_connection() else { throw BusError(.connection, "cannot allocate a connection") }
        self.state = state
        user = endpoint.user
        // From here on deinit releases `state`; freeing it in an error path too would free it twice.
        guard let socket = amqp_tcp_socket_new(state) else { throw BusError(.connection, "cannot create a socket") }
        var timeout = timeval(tv_sec: connectTimeoutSeconds, tv_usec: 0)
        let opened = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &timeout)
        guard opened == AMQP_STATUS_OK.rawValue else {
            throw BusError(.connection, "cannot reach \(endpoint.host):\(endpoint.port): \(String(cString: amqp_error_string2(opened)))")
        }
        try check(crmq_login_plain(state, endpoint.virtualHost, 0, 131_072, heartbeatSeconds, endpoint.user, endpoint.password), "log in")
        loggedIn = true
        amqp_channel_open(state, channel)
        try check(amqp_get_rpc_reply(state), "open a channel")
        channelOpen = true
    }

    deinit {
        if channelOpen { amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS) }
        if loggedIn { amqp_connection_close(state, AMQP_REPLY_SUCCESS) }
        amqp_destroy_connection(state)
    }

    // MARK: Topology

    func declareExchange(_ name: String, type: String) throws {
        crmq_declare_exchange(state, channel, name, type, 1)
        try check(amqp_get_rpc_reply(state), "declare exchange \(name)")
    }

    /// Declares a queue and returns its name (the broker's choice when `name` is empty).
    @discardableResult
    func declareQueue(_ queue: QueueSpec) throws -> String {
        let declared = crmq_declare_queue(
            state, channel, queue.name, queue.durable ? 1 : 0, queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0,
            queue.quorum ? "quorum" : nil, Int64(queue.deliveryLimit ?? 0), queue.deadLetterExchange, queue.overflow,
            Int64(queue.expiresAfterUnusedMilliseconds ?? 0)
        )
        try check(amqp_get_rpc_reply(state), "declare queue \(queue.name)")
        guard let declared else { throw BusError(.refused, "declare queue \(queue.name): no answer") }
        return String(decoding: UnsafeRawBufferPointer(start: declared.pointee.queue.bytes, count: declared.pointee.queue.len), as: UTF8.self)
    }

    func bind(queue: String, to exchange: String, routingKey: String) throws {
        crmq_bind_queue(state, channel, queue, exchange, routingKey)
        try check(amqp_get_rpc_reply(state), "bind \(queue) to \(exchange) with \(routingKey)")
    }

    func deleteQueue(_ queue: String) throws {
        crmq_delete_queue(state, channel, queue)
        try check(amqp_get_rpc_reply(state), "delete queue \(queue)")
    }

    func purgeQueue(_ queue: String) throws {
        crmq_purge_queue(state, channel, queue)
        try check(amqp_get_rpc_reply(state), "purge queue \(queue)")
    }

    // MARK: Publishing

    /// Puts the channel in confirm mode: every publish is then acknowledged by the broker.
    func enableConfirms() throws {
        amqp_confirm_select(state, channel)
        try check(amqp_get_rpc_reply(state), "enable publisher confirms")
    }

    /// Sends one message; returns its delivery tag (for `waitForConfirms`).
    @discardableResult
    func publish(_ message: OutgoingMessage) throws -> UInt64 {
        let status = message.body.withUnsafeBytes { body in
            crmq_publish(
                state, channel, message.exchange, message.routingKey, body.baseAddress, body.count,
                message.messageID, message.correlationID, message.replyTo, message.type, user,
                message.persistent ? 1 : 0, UInt64(message.timestamp.timeIntervalSince1970))
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw BusError(.connection, "publish to \(message.exchange) failed: \(String(cString: amqp_error_string2(status)))")
        }
        defer { nextPublishTag += 1 }
        return nextPublishTag
    }

    /// Returns once the broker confirmed every publish up to `tag`.
    func waitForConfirms(upTo tag: UInt64, timeout: Duration) throws {
        let deadline = ContinuousClock.now + timeout
        while lowestUnconfirmed <= tag {
            guard ContinuousClock.now < deadline else { throw BusError(.timeout, "no publisher confirm within \(timeout)") }
            var frame = amqp_frame_t()
            let status = crmq_wait_frame(state, &frame, 1000)
            if status == AMQP_STATUS_TIMEOUT.rawValue { continue }
            guard status == AMQP_STATUS_OK.rawValue else {
                throw BusError(.connection, "waiting for confirms: \(String(cString: amqp_error_string2(status)))")
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            switch frame.payload.method.id {
            case AMQP_BASIC_ACK_METHOD:
                let ack = frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                if ack.multiple != 0 {
                    lowestUnconfirmed = max(lowestUnconfirmed, ack.delivery_tag + 1)
                } else {
                    confirmedOutOfOrder.insert(ack.delivery_tag)
                }
                confirmedOutOfOrder = confirmedOutOfOrder.filter { $0 >= lowestUnconfirmed }
                while confirmedOutOfOrder.remove(lowestUnconfirmed) != nil { lowestUnconfirmed += 1 }
            case AMQP_BASIC_NACK_METHOD:
                throw BusError(.notConfirmed, "the broker refused a publish (nack)")
            case AMQP_CHANNEL_CLOSE_METHOD, AMQP_CONNECTION_CLOSE_METHOD:
                throw BusError(.refused, "the broker closed the channel: \(Self.closeReason(frame))")
            default:
                continue
            }
        }
    }

    /// Lets librabbitmq send and check heartbeats while the connection is otherwise idle.
    func keepAlive() throws {
        var frame = amqp_frame_t()
        let status = crmq_wait_frame(state, &frame, 0)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw BusError(.connection, "connection lost: \(String(cString: amqp_error_string2(status)))")
        }
        if frame.frame_type == UInt8(AMQP_FRAME_METHOD),
            frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD || frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD
        {
            throw BusError(.refused, "the broker closed the channel: \(Self.closeReason(frame))")
        }
    }

    // MARK: Consuming

    func setPrefetch(_ count: Int) throws {
        amqp_basic_qos(state, channel, 0, UInt16(clamping: count), 0)
        try check(amqp_get_rpc_reply(state), "set prefetch")
    }

    func startConsuming(_ queue: String) throws {
        crmq_start_consuming(state, channel, queue)
        try check(amqp_get_rpc_reply(state), "consume from \(queue)")
    }

    /// The next delivery, or nil when none arrived within `milliseconds`.
    func nextDelivery(waitingUpTo milliseconds: Int) throws -> Delivery? {
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        let reply = crmq_consume(state, &envelope, milliseconds)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            defer { amqp_destroy_envelope(&envelope) }
            return Delivery(envelope: envelope)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
            return nil
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue:
            // A frame other than a delivery: find out whether the broker closed the channel.
            var frame = amqp_frame_t()
            let status = crmq_wait_frame(state, &frame, 0)
            if status == AMQP_STATUS_OK.rawValue, frame.frame_type == UInt8(AMQP_FRAME_METHOD),
                [AMQP_CHANNEL_CLOSE_METHOD, AMQP_CONNECTION_CLOSE_METHOD, AMQP_BASIC_CANCEL_METHOD].contains(frame.payload.method.id)
            {
                throw BusError(.refused, "the broker stopped the consumer: \(Self.closeReason(frame))")
            }
            return nil
        default:
            try check(reply, "consume")
            return nil
        }
    }

    func acknowledge(_ deliveryTag: UInt64) throws {
        let status = amqp_basic_ack(state, channel, deliveryTag, 0)
        guard status == AMQP_STATUS_OK.rawValue else { throw BusError(.connection, "ack failed: \(String(cString: amqp_error_string2(status)))") }
    }

    /// Hands the message back to the broker: to be delivered again, or (`requeue: false`) dead-lettered.
    func reject(_ deliveryTag: UInt64, requeue: Bool) throws {
        let status = amqp_basic_nack(state, channel, deliveryTag, 0, requeue ? 1 : 0)
        guard status == AMQP_STATUS_OK.rawValue else { throw BusError(.connection, "nack failed: \(String(cString: amqp_error_string2(status)))") }
    }

    // MARK: Errors

    private func check(_ reply: amqp_rpc_reply_t, _ action: String) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_NONE:
            throw BusError(.connection, "\(action): no reply from the broker")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw BusError(.connection, "\(action): \(String(cString: amqp_error_string2(reply.library_error)))")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD { channelOpen = false }
            if reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD {
                loggedIn = false
                channelOpen = false
            }
            throw BusError(.refused, "\(action): \(Self.serverMessage(reply.reply))")
        default:
            throw BusError(.connection, "\(action): unexpected reply")
        }
    }

    private static func serverMessage(_ method: amqp_method_t) -> String {
        switch method.id {
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            return "\(close.reply_code) \(string(close.reply_text))"
        case AMQP_CONNECTION_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            return "\(close.reply_code) \(string(close.reply_text))"
        default:
            return "server method \(method.id)"
        }
    }

    private static func closeReason(_ frame: amqp_frame_t) -> String { serverMessage(frame.payload.method) }

    static func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0, let pointer = bytes.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: bytes.len), as: UTF8.self)
    }
}
