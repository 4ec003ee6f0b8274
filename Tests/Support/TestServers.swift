import API
import EventStore
import Foundation
import LocalServers
import Logging
import PostgresNIO

/// Real servers for integration tests.
///
/// `$CELLAR_TEST_DATABASE_URL` (a superuser URL) and `$CELLAR_TEST_AMQP_URL` point the tests at existing
/// servers. Otherwise the first test that needs one starts a private, throw-away PostgreSQL (fsync off) or
/// RabbitMQ under `/var/tmp/cellar/tests-<pid>`, shared by the whole test process and stopped and deleted
/// when it exits. Stacks left by a killed test process are cleaned up by the next one.
public enum TestServers {
    /// A superuser URL to a database where `CREATE DATABASE` is allowed.
    public static func postgresURL() async throws -> String {
        if let url = ProcessInfo.processInfo.environment["CELLAR_TEST_DATABASE_URL"], !url.isEmpty { return url }
        return try await registry.start(.postgres)
    }

    /// An AMQP URL of a running broker.
    public static func amqpURL() async throws -> String {
        if let url = ProcessInfo.processInfo.environment["CELLAR_TEST_AMQP_URL"], !url.isEmpty { return url }
        return try await registry.start(.rabbitMQ)
    }

    /// The private OpenStack Swift's location (`StoreLocation` form), started on first use; or
    /// `$CELLAR_TEST_BACKUP_STORE_URL`.
    public static func objectStoreURL() async throws -> String {
        if let url = ProcessInfo.processInfo.environment["CELLAR_TEST_BACKUP_STORE_URL"], !url.isEmpty { return url }
        return try await registry.start(.objectStore)
    }

    /// The private object store's folder (its device holds the stored objects' files); nil with
    /// `$CELLAR_TEST_BACKUP_STORE_URL`.
    public static func objectStoreFolder() async throws -> URL? {
        if let url = ProcessInfo.processInfo.environment["CELLAR_TEST_BACKUP_STORE_URL"], !url.isEmpty { return nil }
        _ = try await registry.start(.objectStore)
        return try await registry.objectStoreFolder()
    }

    /// Stops the private object store and starts it again, same ports and objects (`pause` in between).
    public static func restartObjectStore(pause: Duration = .seconds(1)) async throws {
        try await registry.restart(.objectStore, pause: pause)
    }

    /// The management API of the broker `amqpURL()` names (nil for an external broker unless
    /// `$CELLAR_TEST_AMQP_MANAGEMENT_URL` is set).
    public static func amqpManagementURL() async throws -> String? {
        if let url = ProcessInfo.processInfo.environment["CELLAR_TEST_AMQP_URL"], !url.isEmpty {
            return ProcessInfo.processInfo.environment["CELLAR_TEST_AMQP_MANAGEMENT_URL"].flatMap { $0.isEmpty ? nil : $0 }
        }
        _ = try await registry.start(.rabbitMQ)
        return try await registry.managementURL()
    }

    /// Stops the private PostgreSQL and starts it again, same port and data, as an operator's restart would
    /// (`pause` in between). Only for the private servers: with `$CELLAR_TEST_DATABASE_URL` it throws.
    public static func restartPostgres(pause: Duration = .seconds(1)) async throws {
        try await registry.restart(.postgres, pause: pause)
    }

    /// Stops the private RabbitMQ and starts it again, same port and data (`pause` in between).
    public static func restartRabbitMQ(pause: Duration = .seconds(1)) async throws {
        try await registry.restart(.rabbitMQ, pause: pause)
    }

    /// The repository's root folder (for `migrations/` and `statecharts/`).
    public static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A logger that stays quiet unless `LOG_LEVEL` asks otherwise.
    public static let logger: Logger = {
        var logger = Logger(label: "cellar.tests")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    static let registry = StackRegistry()
}

/// Starts each private server at most once per process and stops them all at exit.
actor StackRegistry {
    enum Server { case postgres, rabbitMQ, objectStore }

    private var stack: LocalStack?
    private var started: [Server: Task<String, any Error>] = [:]

    func start(_ server: Server) async throws -> String {
        if let running = started[server] { return try await running.value }
        let stack = try localStack()
        let task = Task {
            switch server {
            case .postgres:
                try await stack.startInBackground(.postgres, logger: TestServers.logger)
                return stack.postgres.url
            case .rabbitMQ:
                try await stack.startInBackground(.rabbitMQ, logger: TestServers.logger)
                return stack.rabbitMQ.url
            case .objectStore:
                try await stack.startInBackground(.objectStore, logger: TestServers.logger)
                return stack.objectStore.url
            }
        }
        started[server] = task
        return try await task.value
    }

    func managementURL() throws -> String { try localStack().rabbitMQ.managementURL }

    func objectStoreFolder() throws -> URL { try localStack().objectStore.directory }

    func restart(_ server: Server, pause: Duration) async throws {
        guard let stack, started[server] != nil else { throw RestartRefused() }
        let servers: LocalStack.Servers =
            switch server {
            case .postgres: .postgres
            case .rabbitMQ: .rabbitMQ
            case .objectStore: .objectStore
            }
        await stack.stopInBackground(servers)
        try await Task.sleep(for: pause)
        try await stack.startInBackground(servers, logger: TestServers.logger)
    }

    struct RestartRefused: Error, CustomStringConvertible {
        var description: String { "only a private test server started by this process can be restarted" }
    }

    private func localStack() throws -> LocalStack {
        if let stack { return stack }
        StaleTestStacks.remove()
        let directory = StateDirectory(path: "/var/tmp/cellar/tests-\(getpid())")
        let created = try LocalStack(stateDirectory: directory, durable: false)
        stack = created
        exitStack.withLock { $0 = created }
        atexit { stopStackAtExit() }
        return created
    }
}

/// The stack to stop when the process exits (atexit takes a plain C function, so it reads a global).
private let exitStack = Locked<LocalStack?>(nil)

private func stopStackAtExit() {
    guard let stack = exitStack.withLock({ $0 }) else { return }
    stack.stop()
    try? FileManager.default.removeItem(at: stack.stateDirectory.url)
}

/// Test stacks whose process died without cleaning up: stop their servers and delete their folders.
enum StaleTestStacks {
    static func remove() {
        let root = "/var/tmp/cellar"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for name in names where name.hasPrefix("tests-") {
            guard let pid = Int32(name.dropFirst("tests-".count)), kill(pid, 0) != 0 else { continue }
            let directory = StateDirectory(path: "\(root)/\(name)")
            if let stack = try? LocalStack(stateDirectory: directory, durable: false) { stack.stop() }
            try? FileManager.default.removeItem(at: directory.url)
        }
    }
}
