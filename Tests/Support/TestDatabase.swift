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
        let serverURL = try await TestServers.postgresURL()
        let name = "test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        _ = try await withClient(url: serverURL) { admin in
            try await admin.query("CREATE DATABASE \(unescaped: name)", logger: TestServers.logger)
        }
        var components = URLComponents(string: serverURL)!
        components.path = "/\(name)"
        let url = components.string!
        do {
            let result = try await withClient(url: url) { client in
                try await MigrationRunner(client: client, directory: TestServers.projectRoot.appendingPathComponent("migrations"),
                                          logger: TestServers.logger).migrate()
                return try await body(TestDatabase(client: client, url: url))
            }
            try await drop(name, serverURL: serverURL)
            return result
        } catch {
            try? await drop(name, serverURL: serverURL)
            throw error
        }
    }

    /// Runs `body` with a client whose `run()` lasts for the call.
    public static func withClient<T: Sendable>(url: String, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: try .init(url: url), backgroundLogger: TestServers.logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    private static func drop(_ name: String, serverURL: String) async throws {
        _ = try await withClient(url: serverURL) { admin in
            try await admin.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: TestServers.logger)
        }
    }
}
