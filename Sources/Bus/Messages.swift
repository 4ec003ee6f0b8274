import CRabbitMQ
import Foundation

/// A message to publish. Bodies are JSON.
public struct OutgoingMessage: Sendable, Equatable {
    public var exchange: String
    public var routingKey: String
    public var body: Data
    /// Unique per logical message: consumers de-duplicate on it.
    public var messageID: String
    public var correlationID: String?
    public var replyTo: String?
    /// What the body is, e.g. the event type.
    public var type: String?
    /// Survives a broker restart (written to disk before the confirm).
    public var persistent: Bool
    public var timestamp: Date

    public init(
        exchange: String, routingKey: String, body: Data, messageID: String, correlationID: String? = nil,
        replyTo: String? = nil, type: String? = nil, persistent: Bool = true, timestamp: Date = Date()
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.messageID = messageID
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.type = type
        self.persistent = persistent
        self.timestamp = timestamp
    }
}

/// A message received from a queue.
public struct Delivery: Sendable, Equatable {
    public var body: Data
    public var exchange: String
    public var routingKey: String
    public var messageID: String?
    public var correlationID: String?
    public var replyTo: String?
    public var type: String?
    /// The publisher's broker user, as the broker validated it (nil: the publisher did not say).
    public var userID: String?
    /// True when the broker delivered this message before (to this or another consumer).
    public var redelivered: Bool
    /// Earlier delivery attempts, as counted by a quorum queue (`x-delivery-count`); 0 on the first.
    public var deliveryCount: Int
    /// The channel's tag for ack/nack; only valid on the connection that received it.
    var deliveryTag: UInt64

    init(envelope: amqp_envelope_t) {
        let properties = envelope.message.properties
        func optional(_ flag: Int32, _ bytes: amqp_bytes_t) -> String? {
            properties._flags & amqp_flags_t(flag) != 0 ? AMQPConnection.string(bytes) : nil
        }
        body = envelope.message.body.len > 0 ? Data(bytes: envelope.message.body.bytes, count: envelope.message.body.len) : Data()
        exchange = AMQPConnection.string(envelope.exchange)
        routingKey = AMQPConnection.string(envelope.routing_key)
        messageID = optional(AMQP_BASIC_MESSAGE_ID_FLAG, properties.message_id)
        correlationID = optional(AMQP_BASIC_CORRELATION_ID_FLAG, properties.correlation_id)
        replyTo = optional(AMQP_BASIC_REPLY_TO_FLAG, properties.reply_to)
        type = optional(AMQP_BASIC_TYPE_FLAG, properties.type)
        userID = optional(AMQP_BASIC_USER_ID_FLAG, properties.user_id)
        redelivered = envelope.redelivered != 0
        var copy = properties
        deliveryCount = Int(crmq_header_int(&copy, "x-delivery-count", 0))
        deliveryTag = envelope.delivery_tag
    }
}

/// How to declare a queue.
public struct QueueSpec: Sendable, Equatable {
    /// Empty: the broker names it (for private reply queues).
    public var name: String
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    /// A replicated quorum queue, which counts deliveries and enforces `deliveryLimit`.
    public var quorum: Bool
    /// After this many failed deliveries the broker dead-letters the message (quorum queues).
    public var deliveryLimit: Int?
    public var deadLetterExchange: String?
    /// `reject-publish`: a full queue refuses publishes (nack) instead of dropping messages.
    public var overflow: String?
    /// The broker deletes the queue after it has had no consumer for this long (`x-expires`).
    public var expiresAfterUnusedMilliseconds: Int?

    public init(
        name: String, durable: Bool, exclusive: Bool, autoDelete: Bool, quorum: Bool, deliveryLimit: Int?,
        deadLetterExchange: String?, overflow: String?, expiresAfterUnusedMilliseconds: Int? = nil
    ) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.quorum = quorum
        self.deliveryLimit = deliveryLimit
        self.deadLetterExchange = deadLetterExchange
        self.overflow = overflow
        self.expiresAfterUnusedMilliseconds = expiresAfterUnusedMilliseconds
    }

    /// A durable quorum work queue that dead-letters to `cellar.dead` after `deliveryLimit` failed deliveries.
    public static func workQueue(_ name: String, deliveryLimit: Int = 5) -> QueueSpec {
        QueueSpec(
            name: name, durable: true, exclusive: false, autoDelete: false, quorum: true,
            deliveryLimit: deliveryLimit, deadLetterExchange: Topology.deadLetterExchange, overflow: nil)
    }

    /// A client's reply queue: not durable, removed by the broker 10 s after its client is gone (a killed
    /// process leaves no replies behind for long; a live client's consumer declares it again on reconnect).
    public static func replyQueue(_ name: String) -> QueueSpec {
        QueueSpec(
            name: name, durable: false, exclusive: false, autoDelete: false, quorum: false,
            deliveryLimit: nil, deadLetterExchange: nil, overflow: nil, expiresAfterUnusedMilliseconds: 10_000)
    }
}
