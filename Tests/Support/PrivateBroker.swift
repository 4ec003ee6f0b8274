import Foundation
import LocalServers

/// A RabbitMQ node of one test's own, which the test may stop and start (the shared one must stay up).
public final class PrivateBroker: Sendable {
    private let stack: LocalStack

    /// Its AMQP URL.
    public var url: String { stack.rabbitMQ.url }

    private init(stack: LocalStack) { self.stack = stack }

    /// Starts a new node under the test process's folder.
    public static func start() async throws -> PrivateBroker {
        let directory = StateDirectory(path: "/var/tmp/cellar/tests-\(getpid())/broker-\(UUID().uuidString.prefix(8))")
        let broker = PrivateBroker(stack: try LocalStack(stateDirectory: directory, durable: false))
        try await broker.stack.startInBackground(.rabbitMQ, logger: TestServers.logger)
        return broker
    }

    /// Stops the node (SIGTERM) and starts it again on the same ports, with its data.
    public func restart() async throws {
        await stack.stopInBackground(.rabbitMQ)
        try await stack.startInBackground(.rabbitMQ, logger: TestServers.logger)
    }

    /// Stops the node and deletes its folder.
    public func stop() async {
        await stack.stopInBackground(.rabbitMQ)
        try? FileManager.default.removeItem(at: stack.stateDirectory.url)
    }
}
