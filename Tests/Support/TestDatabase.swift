import API
import EventStore
import Foundation
import Logging
import PostgresNIO

/// A fresh database with Cellar's migrations applied, for one test; dropped afterwards.
public struct TestDatabase: Sendable {
    /// A running client for the test's database.
    public let client: PostgresClient
    /// Its URL.
    public let url: String

    /// An event store on this database.
    public func eventStore(notifiesSubscribers: Bool = true) -> PostgresEventStore {
        PostgresEventStore(client: client, logger: TestServers.logger, notifiesSubscribers: notifiesSubscribers)
    }

    /// Creates a database named after a random id, migrates it, runs `body`, then drops it.
    public static func with<T: Sendable>(_ body: @Sendable (TestDatabase) async throws -> T) async throws -> T {
        let name = "test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        return try await PostgresClient.withScratchDatabase(
            named: name, serverURL: try await TestServers.postgresURL(),
            logger: TestServers.logger
        ) { client, url in
            try await MigrationRunner(
                client: client, directory: TestServers.projectRoot.appendingPathComponent("migrations"),
                logger: TestServers.logger
            ).migrate()
            return try await body(TestDatabase(client: client, url: url))
        }
    }

    /// Runs `body` with a client whose `run()` lasts for the call.
    public static func withClient<T: Sendable>(url: String, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        try await PostgresClient.withRunning(url: url, logger: TestServers.logger, body)
    }
}
