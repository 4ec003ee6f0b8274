import Bus
import CellarCLI
import EventStore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Keeps one projection current for as long as the service group runs; restarts it after database errors, with
/// a pause that grows from 1 s to 10 s while the database stays away (a clear line each time, never a spin).
struct ProjectionService: Service {
    let runner: ProjectionRunner
    let migrations: MigrationGate
    let logger: Logger
    var afterApplying: @Sendable () -> Void = {}

    func run() async throws {
        try await migrations.ensureMigrated()
        var pause = 1
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await runner.run(afterApplying: afterApplying) }
                pause = 1
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                logger.error("projection stopped; restarting in \(pause) s", metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .seconds(pause))
                pause = min(pause * 2, 10)
            }
        }
    }
}

/// Publishes the event log to RabbitMQ for as long as the service group runs.
struct RelayService: Service {
    let relay: EventRelay
    let migrations: MigrationGate

    func run() async throws {
        try await migrations.ensureMigrated()
        try await runUntilGracefulShutdown { try await relay.run() }
    }
}

/// Makes sure a stop request ends the process: if the services have not finished `limit` after graceful
/// shutdown began (a hung connection, a blocked call), `overdue` runs on its own thread (it stops the private
/// servers and exits), so SIGTERM never leaves a server behind.
struct ShutdownWatchdog: Service {
    let limit: Duration
    let overdue: @Sendable () -> Void

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group is ending anyway
        }
        let seconds = Double(limit.components.seconds)
        let overdue = self.overdue
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: seconds)
            overdue()
        }
    }
}

/// Receives the replies to the API's calls to guest agents (reading an instance's effective configuration).
struct RPCReplyService: Service {
    let rpc: RPCClient

    func run() async throws {
        try await runUntilGracefulShutdown { try await rpc.run() }
    }
}

/// Listens for `cellar_cache` notifications so the API's tokens and catalog may be served from memory.
struct CacheInvalidationService: Service {
    let invalidation: CacheInvalidation
    let client: PostgresClient
    let logger: Logger

    func run() async throws {
        try await runUntilGracefulShutdown { await invalidation.run(client: client, logger: logger) }
    }
}
