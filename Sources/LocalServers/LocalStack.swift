import Foundation
import Logging

/// The private PostgreSQL, RabbitMQ and object store (OpenStack Swift) behind `cellar up` and the integration tests.
///
/// Ports and credentials are chosen once and kept in `stack.json`, so a second start reuses the same servers
/// and data. Everything listens on 127.0.0.1 only.
public final class LocalStack: Sendable {
    /// The PostgreSQL server.
    public let postgres: PostgresServer
    /// The RabbitMQ node.
    public let rabbitMQ: RabbitMQServer
    /// The object store backups are kept in.
    public let objectStore: SwiftStoreServer
    /// Where they keep their state.
    public let stateDirectory: StateDirectory

    /// What is persisted between starts.
    struct Settings: Codable, Equatable {
        var postgresPort: Int
        var postgresPassword: String
        var amqpPort: Int
        var distributionPort: Int
        var epmdPort: Int
        var nodeName: String
        /// The broker's own user and password (nil in stacks made before the broker had them: then made now).
        var brokerUser: String?
        var brokerPassword: String?
        /// The broker's management API port (nil in stacks made before it was enabled: chosen now).
        var managementPort: Int?
        /// The object store's ports and secrets (nil in stacks made before it: chosen now).
        var objectStore: ObjectStoreSettings?
    }

    struct ObjectStoreSettings: Codable, Equatable {
        var ports: SwiftStoreServer.Ports
        var hashSecret: String
        var serviceKey: String
    }

    /// Reads (or creates) the stack's settings; starts nothing yet.
    /// - Parameters:
    ///   - databaseOSUser: the OS user PostgreSQL runs as when we are root (created by `scripts/setup`).
    ///   - durable: false turns fsync off, for throw-away test stacks.
    public init(stateDirectory: StateDirectory, databaseOSUser: String = "cellar-db", durable: Bool = true) throws {
        self.stateDirectory = stateDirectory
        try stateDirectory.create()
        let settings = try Self.movingOffBusyPorts(
            Self.withObjectStore(Self.withBrokerUser(Self.loadOrCreateSettings(in: stateDirectory), in: stateDirectory), in: stateDirectory),
            in: stateDirectory)
        let osUser = getuid() == 0 ? databaseOSUser : nil
        self.postgres = PostgresServer(
            directory: stateDirectory.subdirectory("postgres"), port: settings.postgresPort,
            password: settings.postgresPassword, osUser: osUser, durable: durable, databaseName: "cellar"
        )
        self.rabbitMQ = RabbitMQServer(
            directory: stateDirectory.subdirectory("rabbitmq"), amqpPort: settings.amqpPort,
            distributionPort: settings.distributionPort, epmdPort: settings.epmdPort, nodeName: settings.nodeName,
            user: settings.brokerUser ?? "cellar", password: settings.brokerPassword ?? "",
            managementPort: settings.managementPort ?? 15672
        )
        let store = settings.objectStore!  // `withObjectStore` made it
        self.objectStore = SwiftStoreServer(
            directory: stateDirectory.subdirectory("objectstore"), ports: store.ports, hashSecret: store.hashSecret,
            serviceKey: store.serviceKey, osUser: osUser)
    }

    /// Which of the two servers to act on.
    public struct Servers: OptionSet, Sendable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let postgres = Servers(rawValue: 1)
        public static let rabbitMQ = Servers(rawValue: 2)
        public static let objectStore = Servers(rawValue: 4)
        public static let all: Servers = [.postgres, .rabbitMQ, .objectStore]

        public var description: String {
            let names = [contains(.postgres) ? "PostgreSQL" : nil, contains(.rabbitMQ) ? "RabbitMQ" : nil, contains(.objectStore) ? "Swift" : nil]
                .compactMap { $0 }
            return names.count > 1 ? names.dropLast().joined(separator: ", ") + " and " + names.last! : names.joined()
        }
    }

    /// Starts the servers (or reuses running ones). On failure, stops whatever this call was to start.
    public func start(_ servers: Servers = .all, logger: Logger) throws {
        do {
            if servers.contains(.postgres) { try postgres.start(logger: logger) }
            if servers.contains(.rabbitMQ) { try rabbitMQ.start(logger: logger) }
            if servers.contains(.objectStore) { try objectStore.start(logger: logger) }
        } catch {
            stop(servers)
            throw error
        }
    }

    /// Stops the servers; safe to call twice.
    public func stop(_ servers: Servers = .all) {
        if servers.contains(.objectStore) { objectStore.stop() }
        if servers.contains(.rabbitMQ) { rabbitMQ.stop() }
        if servers.contains(.postgres) { try? postgres.stop() }
    }

    /// `start` on a dedicated thread, so the blocking helper programs never occupy a Swift concurrency thread.
    public func startInBackground(_ servers: Servers = .all, logger: Logger) async throws {
        try await onDedicatedThread { try self.start(servers, logger: logger) }
    }

    /// `stop` on a dedicated thread.
    public func stopInBackground(_ servers: Servers = .all) async {
        try? await onDedicatedThread { self.stop(servers) }
    }

    /// A server that is not running keeps its ports only while they are free: another program may have taken
    /// one since the last start. Busy ones are replaced and the new choice saved.
    private static func movingOffBusyPorts(_ settings: Settings, in directory: StateDirectory) throws -> Settings {
        var updated = settings
        let postgresPID = PostgresServer.runningPID(dataDirectory: directory.subdirectory("postgres").appendingPathComponent("data"))
        if postgresPID == nil && !Loopback.isFree(port: settings.postgresPort) {
            updated.postgresPort = try Loopback.freePort()
        }
        if RabbitMQServer.runningPID(pidFile: directory.subdirectory("rabbitmq").appendingPathComponent("rabbit.pid")) == nil {
            for port in [\Settings.amqpPort, \.distributionPort, \.epmdPort] where !Loopback.isFree(port: settings[keyPath: port]) {
                updated[keyPath: port] = try Loopback.freePort()
            }
            if let management = settings.managementPort, !Loopback.isFree(port: management) { updated.managementPort = try Loopback.freePort() }
        }
        if var store = settings.objectStore, SwiftStoreServer.runningProxy(in: directory.subdirectory("objectstore")) == nil {
            for port in [\SwiftStoreServer.Ports.proxy, \.account, \.container, \.object, \.memcached]
            where !Loopback.isFree(port: store.ports[keyPath: port]) {
                store.ports[keyPath: port] = try Loopback.freePort()
            }
            updated.objectStore = store
        }
        if updated != settings { try save(updated, in: directory) }
        return updated
    }

    private static func withBrokerUser(_ settings: Settings, in directory: StateDirectory) throws -> Settings {
        guard settings.brokerUser == nil || settings.brokerPassword == nil || settings.managementPort == nil else { return settings }
        var updated = settings
        if updated.brokerUser == nil || updated.brokerPassword == nil {
            updated.brokerUser = "cellar"
            updated.brokerPassword = randomSecret()
        }
        if updated.managementPort == nil { updated.managementPort = try Loopback.freePort() }
        try save(updated, in: directory)
        return updated
    }

    private static func withObjectStore(_ settings: Settings, in directory: StateDirectory) throws -> Settings {
        guard settings.objectStore == nil else { return settings }
        var updated = settings
        updated.objectStore = ObjectStoreSettings(
            ports: SwiftStoreServer.Ports(
                proxy: try Loopback.freePort(), account: try Loopback.freePort(), container: try Loopback.freePort(),
                object: try Loopback.freePort(), memcached: try Loopback.freePort()),
            hashSecret: randomSecret(), serviceKey: randomSecret())
        try save(updated, in: directory)
        return updated
    }

    private static func loadOrCreateSettings(in directory: StateDirectory) throws -> Settings {
        let file = directory.url.appendingPathComponent("stack.json")
        if let data = try? Data(contentsOf: file), let settings = try? JSONDecoder().decode(Settings.self, from: data) {
            return settings
        }
        let amqpPort = try Loopback.freePort()
        let settings = Settings(
            postgresPort: try Loopback.freePort(),
            postgresPassword: randomSecret(),
            amqpPort: amqpPort,
            distributionPort: try Loopback.freePort(),
            epmdPort: try Loopback.freePort(),
            nodeName: "cellar-\(StateDirectory.stableHash(directory.url.path))@localhost"
        )
        try save(settings, in: directory)
        return settings
    }

    private static func save(_ settings: Settings, in directory: StateDirectory) throws {
        let file = directory.url.appendingPathComponent("stack.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writePrivateFile(try encoder.encode(settings), to: file)
    }

    private static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }
}

/// Runs blocking work (helper programs, file trees, process waits) on a new thread and resumes the caller when
/// it finishes, so it never occupies a thread of the small Swift concurrency pool.
public func onDedicatedThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            var allSignals = sigset_t()
            sigfillset(&allSignals)
            pthread_sigmask(SIG_BLOCK, &allSignals, nil)  // signals are for the process's shutdown handling
            continuation.resume(with: Result { try work() })
        }
        thread.start()
    }
}
