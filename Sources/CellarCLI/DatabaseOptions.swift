import API
import ArgumentParser
import EventStore
import Foundation
import LocalServers
import Logging
import PostgresNIO

/// `--database-url`, falling back to `$CELLAR_DATABASE_URL`, then to the local stack of this clone.
public struct DatabaseOptions: ParsableArguments {
    public init() {}

    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (default: $CELLAR_DATABASE_URL, else the local stack started by `cellar up`).")
    public var databaseURL: String?

    public struct NoDatabase: Error, CustomStringConvertible {
        public var description: String { "no database configured: set CELLAR_DATABASE_URL or start the local stack with `cellar up`" }
    }

    public func resolvedURL() throws -> String {
        if let databaseURL { return databaseURL }
        if let url = ProcessInfo.processInfo.environment["CELLAR_DATABASE_URL"], !url.isEmpty { return url }
        guard let stack = try LocalStack.ofThisClone() else { throw NoDatabase() }
        return stack.postgres.url
    }

    /// Runs `body` with a connected event store; the client runs for the duration of the call.
    public func withEventStore<T: Sendable>(
        logger: Logger,
        _ body: @Sendable @escaping (PostgresEventStore, PostgresClient) async throws -> T
    ) async throws -> T {
        let url = try resolvedURL()
        return try await ReadableError.translating {
            try await PostgresClient.withRunning(url: url, logger: logger) { client in
                try await body(PostgresEventStore(client: client, logger: logger), client)
            }
        }
    }
}

extension Logger {
    /// A logger for command-line use: warnings and up unless `LOG_LEVEL` says otherwise.
    public static func cellar(_ label: String, defaultLevel: Logger.Level = .warning) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel
        return logger
    }
}

/// `--amqp-url`, falling back to `$CELLAR_AMQP_URL`, then to the local stack of this clone.
public struct BrokerOptions: ParsableArguments {
    public init() {}

    @Option(name: .customLong("amqp-url"), help: "RabbitMQ URL (default: $CELLAR_AMQP_URL, else the local stack started by `cellar up`).")
    public var amqpURL: String?

    public struct NoBroker: Error, CustomStringConvertible {
        public var description: String { "no broker configured: set CELLAR_AMQP_URL or start the local stack with `cellar up`" }
    }

    public func resolvedURL() throws -> String {
        if let amqpURL { return amqpURL }
        if let url = ProcessInfo.processInfo.environment["CELLAR_AMQP_URL"], !url.isEmpty { return url }
        guard let stack = try LocalStack.ofThisClone() else { throw NoBroker() }
        return stack.rabbitMQ.url
    }
}

extension LocalStack {
    /// The stack `cellar up` keeps for this clone, if it was ever started.
    public static func ofThisClone() throws -> LocalStack? {
        let state = StateDirectory.resolve(projectRoot: try ProjectFiles.root())
        guard FileManager.default.fileExists(atPath: state.url.appendingPathComponent("stack.json").path) else { return nil }
        return try LocalStack(stateDirectory: state)
    }
}
