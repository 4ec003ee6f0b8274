import Lifecycle

/// Cellar's exchanges and queues (see DESIGN.md, "Message bus").
public enum Topology {
    /// Every event of the log, published by the relay with routing key `<aggregate>.<EventType>`.
    public static let eventsExchange = "cellar.events"
    /// Commands to guest agents, routed by queue name `guest.<instance_id>`.
    public static let rpcExchange = "cellar.rpc"
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
    static func declareShared(on connection: AMQPConnection) throws {
        try connection.declareExchange(eventsExchange, type: "topic")
        try connection.declareExchange(rpcExchange, type: "direct")
        try connection.declareExchange(deadLetterExchange, type: "fanout")
        try connection.declareQueue(deadLetterQueueSpec)
        try connection.bind(queue: deadLetterQueue, to: deadLetterExchange, routingKey: "")
        // The task manager's and conductor's queues exist as soon as anything connects, so no trigger the
        // relay publishes and no heartbeat is dropped for want of a queue while those services start.
        _ = try connection.declareQueue(taskManagerQueueSpec)
        for eventType in taskManagerTriggers {
            try connection.bind(queue: taskManagerQueue, to: eventsExchange, routingKey: "instance.\(eventType)")
        }
        _ = try connection.declareQueue(conductorQueueSpec)
    }

    /// The instance events that start a saga (`Saga.Definition.triggers`).
    public static var taskManagerTriggers: [String] { Saga.Definition.triggers.map(\.eventType) }

    /// The task manager's queue of saga triggers.
    public static let taskManagerQueueSpec = QueueSpec.workQueue(taskManagerQueue, deliveryLimit: 10)
}
