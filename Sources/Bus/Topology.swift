/// Cellar's exchanges and queues (see DESIGN.md, "Message bus").
public enum Topology {
    /// Every event of the log, published by the relay with routing key `<aggregate>.<EventType>`.
    public static let eventsExchange = "cellar.events"
    /// Commands to guest agents, routed by queue name `guest.<instance_id>`.
    public static let rpcExchange = "cellar.rpc"
    /// What guests may publish to (their only write permission besides their own queue): RPC replies, routed by
    /// reply queue name, and heartbeats, routed to the conductor's queue. Guests never get the default exchange,
    /// which would let one write into any queue, another guest's included.
    public static let guestExchange = "cellar.guest"
    /// Where messages go after too many failed deliveries.
    public static let deadLetterExchange = "cellar.dead"
    /// The queue that keeps dead letters for operators to inspect.
    public static let deadLetterQueue = "cellar.dead.letters"

    /// Routing key of an event: `instance.InstanceCreateRequested` for stream `instance-<id>`.
    public static func routingKey(streamID: String, eventType: String) -> String {
        "\(streamID.prefix { $0 != "-" }).\(eventType)"
    }

    /// The dead-letter queue: durable, never dead-letters itself.
    public static let deadLetterQueueSpec = QueueSpec(
        name: deadLetterQueue, durable: true, exclusive: false, autoDelete: false,
        quorum: true, deliveryLimit: nil, deadLetterExchange: nil, overflow: nil
    )

    /// Declares the exchanges and the dead-letter queue (idempotent).
    /// `sagaTriggers`: the routing keys of the events that start sagas (Lifecycle's saga registry, handed in by
    /// whoever wires the control plane: the bus does not know the lifecycle).
    static func declareShared(on connection: AMQPConnection, sagaTriggers: [String]) throws {
        try connection.declareExchange(eventsExchange, type: "topic")
        try connection.declareExchange(rpcExchange, type: "direct")
        try connection.declareExchange(guestExchange, type: "direct")
        try connection.declareExchange(deadLetterExchange, type: "fanout")
        try connection.declareQueue(deadLetterQueueSpec)
        try connection.bind(queue: deadLetterQueue, to: deadLetterExchange, routingKey: "")
        // The task manager's and conductor's queues exist as soon as anything connects, so no trigger the
        // relay publishes and no heartbeat is dropped for want of a queue while those services start.
        _ = try connection.declareQueue(taskManagerQueueSpec)
        for routingKey in sagaTriggers {
            try connection.bind(queue: taskManagerQueue, to: eventsExchange, routingKey: routingKey)
        }
        _ = try connection.declareQueue(conductorQueueSpec)
        try connection.bind(queue: conductorQueue, to: guestExchange, routingKey: conductorQueue)
    }

    /// The bindings of an RPC client's reply queue: guests reply through `cellar.guest`.
    static func replyBindings(_ replyQueue: String) -> [Binding] { [Binding(exchange: guestExchange, routingKey: replyQueue)] }

    /// The task manager's queue of saga triggers.
    public static let taskManagerQueueSpec = QueueSpec.workQueue(taskManagerQueue, deliveryLimit: 10)
}

/// Who a connection belongs to, which decides what it declares when it connects.
public enum ConnectionRole: Sendable {
    /// The control plane: declares the shared exchanges and work queues on every (re)connect, the task manager's
    /// queue bound to the routing keys of the events that start sagas.
    case controlPlane(sagaTriggers: [String])
    /// A guest agent: declares only its own queue; its broker user may touch nothing else.
    case guest

    /// Declares what this role shares on a (re)connect: nothing for a guest.
    func declareShared(on connection: AMQPConnection) throws {
        if case .controlPlane(let triggers) = self { try Topology.declareShared(on: connection, sagaTriggers: triggers) }
    }
}
