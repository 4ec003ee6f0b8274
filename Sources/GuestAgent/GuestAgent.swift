import Bus
import Foundation
import GuestProtocol
import Lifecycle
import LocalServers
import Logging
import Secrets

/// The agent beside one datastore: serves RPCs on `guest.<instance_id>` and sends a heartbeat to the
/// conductor every `heartbeatInterval`. Started by the compute driver as `cellar guestagent`.
public struct GuestAgent: Sendable {
    /// How the agent was started.
    public struct Configuration: Sendable {
        public var instanceID: String
        /// The instance folder the compute driver made.
        public var directory: URL
        /// The short folder for sockets the compute driver made.
        public var runtimeDirectory: URL
        /// The datastore's address and port.
        public var address: String
        public var port: Int
        /// The datastore version's manager (`postgresql`): which `DatastoreManager` runs the server.
        public var datastore: String
        public var amqpURL: String
        public var heartbeatInterval: Duration
        /// The file holding this guest's own key (base64), which opens the passwords sealed for it; written by
        /// the compute driver, mode 600.
        public var keyFile: URL?

        public init(
            instanceID: String, directory: URL, runtimeDirectory: URL, address: String, port: Int, datastore: String, amqpURL: String,
            heartbeatInterval: Duration, keyFile: URL? = nil
        ) {
            self.instanceID = instanceID
            self.directory = directory
            self.runtimeDirectory = runtimeDirectory
            self.address = address
            self.port = port
            self.datastore = datastore
            self.amqpURL = amqpURL
            self.heartbeatInterval = heartbeatInterval
            self.keyFile = keyFile
        }
    }

    let configuration: Configuration
    let logger: Logger

    public init(configuration: Configuration, logger: Logger) throws {
        guard DatastoreManagers.type(named: configuration.datastore) != nil else {
            throw RemoteFailure(type: "UnsupportedDatastore", message: "this guest agent has no manager for \(configuration.datastore)")
        }
        self.configuration = configuration
        self.logger = logger
    }

    /// Serves until cancelled.
    public func run() async throws {
        guard let kind = DatastoreManagers.type(named: configuration.datastore) else { return }
        let manager = kind.init(
            instanceDirectory: configuration.directory, runtimeDirectory: configuration.runtimeDirectory,
            address: configuration.address, port: configuration.port, logger: logger)
        await manager.startIfPrepared()
        let publisher = try BusPublisher(url: configuration.amqpURL, role: .guest)
        defer { publisher.shutdown() }
        // The queue and its binding were made by the control plane before this guest started (a guest may not bind).
        let server = RPCServer(url: configuration.amqpURL, queue: Topology.guestQueue(configuration.instanceID), publisher: publisher, role: .guest)
        let dispatcher = GuestDispatcher(manager: manager, instanceID: configuration.instanceID, keys: try readKey(), logger: logger)
        logger.info("guest agent serving", metadata: ["instance": "\(configuration.instanceID)", "queue": "\(server.queue)"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run { request in try await dispatcher.handle(request) } }
            group.addTask { try await heartbeats(manager: manager, publisher: publisher) }
            let instanceID = configuration.instanceID
            let check = BalancerCheckServer(
                address: configuration.address, port: BalancerCheck.port,
                answers: { question in
                    if let member = manager as? any ReplicatingManager, await member.isReplicating { return await member.answers(question) }
                    guard question == .ready else { return false }
                    return await manager.report(instanceID: instanceID, at: Date()).condition == .healthy
                }, logger: logger)
            group.addTask { await check.run() }
            try await group.next()
            group.cancelAll()
        }
    }

    /// The guest's own key; without one, sealed passwords cannot be opened and calls carrying them fail.
    private func readKey() throws -> SecretBox? {
        guard let file = configuration.keyFile else { return nil }
        return try SecretBox(base64Key: try String(contentsOf: file, encoding: .utf8))
    }

    /// A report every `heartbeatInterval`; an active-passive member reports at least every second, at once when
    /// its server exits, and within 0.2 s when it starts (the failover monitor acts on the first).
    private func heartbeats(manager: any DatastoreManager, publisher: BusPublisher) async throws {
        let replicating = manager as? any ReplicatingManager
        while !Task.isCancelled {
            let report = await manager.report(instanceID: configuration.instanceID, at: Date())
            do {
                let messageID = "heartbeat-\(configuration.instanceID)-\(report.sentAt.timeIntervalSince1970)"
                try await publisher.publish(
                    [Topology.guestReport(try JSONEncoder.rpc.encode(report), messageID: messageID)],
                    confirmTimeout: .seconds(5))
            } catch {
                logger.warning("heartbeat not sent", metadata: ["error": "\(error)"])
            }
            guard let replicating, await replicating.isReplicating else {
                try await Task.sleep(for: configuration.heartbeatInterval)
                continue
            }
            let next = ContinuousClock.now + min(configuration.heartbeatInterval, .seconds(1))
            if let server = await replicating.serverProcess() {
                // The kernel says when the server exits (a pidfd): the report goes out the moment it dies.
                _ = try await onDedicatedThread { ProcessStatus.waitForExit(pid: server, limit: next - .now) }
            } else {
                // A start is not urgent: looked for five times a second.
                while ContinuousClock.now < next, await replicating.serverProcess() == nil {
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
        }
    }
}
