import Foundation

/// What a guest agent tells the conductor, on the `conductor` queue: its heartbeat.
public struct GuestHeartbeat: Codable, Sendable, Equatable {
    /// The instance the guest runs beside.
    public var instanceID: String
    /// The datastore's status, as Trove's `ServiceStatus` descriptions: `building` before prepare, then
    /// `healthy`, `shutdown`, `crashed`, `blocked`, `failed`.
    public var status: String
    /// `primary` or `replica`.
    public var role: String
    /// Bytes used by the data directory.
    public var volumeUsedBytes: Int64
    /// The size the volume may grow to, in GB (0: not prepared yet).
    public var volumeSizeGB: Int
    /// The datastore server's version, e.g. `15.18`.
    public var serverVersion: String?
    /// When the guest sent it.
    public var sentAt: Date

    /// Creates a heartbeat.
    public init(instanceID: String, status: String, role: String, volumeUsedBytes: Int64, volumeSizeGB: Int, serverVersion: String?, sentAt: Date) {
        self.instanceID = instanceID
        self.status = status
        self.role = role
        self.volumeUsedBytes = volumeUsedBytes
        self.volumeSizeGB = volumeSizeGB
        self.serverVersion = serverVersion
        self.sentAt = sentAt
    }

    enum CodingKeys: String, CodingKey {
        case instanceID = "instance_id", status, role, volumeUsedBytes = "volume_used_bytes", volumeSizeGB = "volume_size_gb"
        case serverVersion = "server_version", sentAt = "sent_at"
    }

    /// The message that carries it to the conductor.
    public func message() throws -> OutgoingMessage {
        OutgoingMessage(exchange: Topology.guestExchange, routingKey: Topology.conductorQueue, body: try JSONEncoder.rpc.encode(self),
                        messageID: "heartbeat-\(instanceID)-\(sentAt.timeIntervalSince1970)", type: "heartbeat", persistent: false)
    }

    /// Reads a heartbeat from a delivery.
    public static func decode(_ delivery: Delivery) throws -> GuestHeartbeat {
        try JSONDecoder.rpc.decode(GuestHeartbeat.self, from: delivery.body)
    }
}

extension Topology {
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
