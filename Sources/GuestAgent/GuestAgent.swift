import Bus
import EventStore
import Secrets
import Foundation
import Logging
import PostgresNIO

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
        /// `postgresql` (the only datastore so far).
        public var datastore: String
        public var amqpURL: String
        public var heartbeatInterval: Duration
        /// The OS user the server runs as (nil: the agent's own user).
        public var osUser: String?
        /// The file holding this guest's own key (base64), which opens the passwords sealed for it; written by
        /// the compute driver, mode 600.
        public var keyFile: URL?

        public init(instanceID: String, directory: URL, runtimeDirectory: URL, address: String, port: Int, datastore: String, amqpURL: String,
                    heartbeatInterval: Duration, osUser: String?, keyFile: URL? = nil) {
            self.instanceID = instanceID
            self.directory = directory
            self.runtimeDirectory = runtimeDirectory
            self.address = address
            self.port = port
            self.datastore = datastore
            self.amqpURL = amqpURL
            self.heartbeatInterval = heartbeatInterval
            self.osUser = osUser
            self.keyFile = keyFile
        }
    }

    let configuration: Configuration
    let logger: Logger

    public init(configuration: Configuration, logger: Logger) throws {
        guard configuration.datastore == "postgresql" else {
            throw RemoteFailure(type: "UnsupportedDatastore", message: "this guest agent manages postgresql, not \(configuration.datastore)")
        }
        self.configuration = configuration
        self.logger = logger
    }

    /// Serves until cancelled.
    public func run() async throws {
        let manager = PostgreSQLManager(instanceDirectory: configuration.directory, runtimeDirectory: configuration.runtimeDirectory, address: configuration.address,
                                        port: configuration.port, osUser: configuration.osUser, logger: logger)
        await manager.startIfPrepared()
        let publisher = try BusPublisher(url: configuration.amqpURL, role: .guest)
        defer { publisher.shutdown() }
        // The queue exists before the first heartbeat registers the guest, so no call can be sent to nowhere.
        try await Topology.declareGuestQueue(configuration.instanceID, with: publisher)
        let server = RPCServer(url: configuration.amqpURL, queue: Topology.guestQueue(configuration.instanceID), publisher: publisher, role: .guest)
        let dispatcher = GuestDispatcher(manager: manager, keys: try readKey(), logger: logger)
        logger.info("guest agent serving", metadata: ["instance": "\(configuration.instanceID)", "queue": "\(server.queue)"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run { request in try await dispatcher.handle(request) } }
            group.addTask { try await heartbeats(manager: manager, publisher: publisher) }
            try await group.next()
            group.cancelAll()
        }
    }

    /// The guest's own key; without one, sealed passwords cannot be opened and calls carrying them fail.
    private func readKey() throws -> SecretBox? {
        guard let file = configuration.keyFile else { return nil }
        return try SecretBox(base64Key: try String(contentsOf: file, encoding: .utf8))
    }

    private func heartbeats(manager: PostgreSQLManager, publisher: BusPublisher) async throws {
        while !Task.isCancelled {
            let status = await manager.status()
            let heartbeat = GuestHeartbeat(
                instanceID: configuration.instanceID, status: status.status, role: "primary",
                volumeUsedBytes: status.volumeUsedBytes, volumeSizeGB: status.volumeSizeGB,
                serverVersion: status.serverVersion, sentAt: Date())
            do {
                try await publisher.publish([try heartbeat.message()], confirmTimeout: .seconds(5))
            } catch {
                logger.warning("heartbeat not sent", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: configuration.heartbeatInterval)
        }
    }
}

/// Turns an RPC into a call on the datastore manager; arguments and results are the shapes of `GuestContract`.
struct GuestDispatcher: Sendable {
    let manager: PostgreSQLManager
    /// Opens the passwords sealed for this guest.
    let keys: SecretBox?
    let logger: Logger

    /// `users` with their sealed passwords opened.
    private func opened(_ users: [GuestUser]) throws -> [GuestUser] {
        try users.map { user in
            var opened = user
            opened.password = try user.sealedPassword.map { try open($0, purpose: "user:\(user.name)", of: user.name) }
            opened.sealedPassword = nil
            return opened
        }
    }

    /// A password sealed for this guest, opened with its own key.
    private func open(_ sealed: SealedPassword, purpose: String, of owner: String) throws -> String {
        guard let keys else { throw RemoteFailure(type: "MissingKey", message: "the guest has no key to open the password of \(owner)") }
        do { return try sealed.open(purpose: purpose, box: keys) } catch {
            throw RemoteFailure(type: "InvalidSecret", message: "the password of \(owner) was not sealed for this guest")
        }
    }

    func handle(_ request: RPCRequest) async throws -> JSONValue {
        do {
            return try await dispatch(request)
        } catch let error as PSQLError {
            // PSQLError prints nothing useful by design; the server's own message is what an operator needs.
            let message = error.serverInfo?[.message] ?? String(reflecting: error)
            logger.error("rpc failed in the datastore", metadata: ["method": "\(request.method)", "error": "\(message)"])
            throw RemoteFailure(type: "DatastoreError", message: message)
        } catch {
            logger.error("rpc failed", metadata: ["method": "\(request.method)", "error": "\(error)"])
            throw error
        }
    }

    private func dispatch(_ request: RPCRequest) async throws -> JSONValue {
        guard let method = GuestMethod(rawValue: request.method) else {
            throw RemoteFailure(type: "UnknownMethod", message: "the guest agent has no method \(request.method)")
        }
        logger.info("rpc", metadata: ["method": "\(method.rawValue)", "message_id": "\(request.messageID)"])
        func args<T: Decodable>(_ type: T.Type) throws -> T {
            do { return try request.args.decode(as: T.self) } catch {
                throw RemoteFailure(type: "InvalidArguments", message: "\(method.rawValue): unreadable arguments: \(error)")
            }
        }
        switch method {
        case .prepare:
            var prepare = try args(PrepareRequest.self)
            prepare.users = try opened(prepare.users)
            try await manager.prepare(prepare)
        case .restart: try await manager.restart(memoryMB: try args(RestartRequest.self).memoryMB)
        case .stop: try await manager.stop()
        case .createDatabase: try await manager.createDatabases(try args(DatabasesRequest.self).databases)
        case .deleteDatabase: try await manager.deleteDatabase(try args(NameRequest.self).name)
        case .listDatabases: return try JSONValue(encoding: try await manager.listDatabases())
        case .createUser: try await manager.createUsers(try opened(args(UsersRequest.self).users))
        case .deleteUser: try await manager.deleteUser(try args(NameRequest.self).name)
        case .listUsers: return try JSONValue(encoding: try await manager.listUsers())
        case .grantAccess:
            let access = try args(AccessRequest.self)
            try await manager.grant(user: access.user, databases: access.databases)
        case .revokeAccess:
            let access = try args(AccessRequest.self)
            try await manager.revoke(user: access.user, databases: access.databases)
        case .changePassword: try await manager.changePasswords(try opened(args(UsersRequest.self).users))
        case .enableRoot:
            let password = try args(EnableRootRequest.self).sealedPassword.map { try open($0, purpose: "root", of: "root") }
            // The caller knows the password it sealed; the reply does not carry it back over the bus.
            _ = try await manager.enableRoot(password: password)
            return .object(["name": .string("root")])
        case .disableRoot: try await manager.disableRoot()
        case .resizeVolume: try await manager.resizeVolume(try args(ResizeVolumeRequest.self).sizeGB)
        case .getStatus: return try JSONValue(encoding: await manager.status())
        case .updateOverrides: return try JSONValue(encoding: try await manager.updateOverrides(try args(OverridesRequest.self).values))
        case .getConfiguration: return try JSONValue(encoding: try await manager.effectiveConfiguration())
        case .renameUser:
            let rename = try args(RenameUserRequest.self)
            try await manager.renameUser(rename.name, to: rename.newName)
        case .updateAccess: try await manager.updateAccess(allowedCidrs: try args(AccessRulesRequest.self).allowedCidrs)
        }
        return .object(["ok": .bool(true)])
    }
}
