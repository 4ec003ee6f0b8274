import Foundation
import Logging
import PostgresNIO

extension PostgresClient {
    /// Runs `body` with a client for `url` whose `run()` lasts exactly for the call.
    public static func withRunning<T: Sendable>(
        url: String, logger: Logger, _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: try .init(url: url), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// Creates database `name` on the server of `serverURL` (a user allowed to create databases), runs `body` with
    /// a client for it, and drops it afterwards, also when `body` throws. For benchmarks and tests.
    public static func withScratchDatabase<T: Sendable>(
        named name: String, serverURL: String, logger: Logger, _ body: @Sendable (PostgresClient, _ url: String) async throws -> T
    ) async throws -> T {
        guard var components = URLComponents(string: serverURL) else { throw InvalidDatabaseURL(url: serverURL) }
        components.path = "/\(name)"
        guard let url = components.string else { throw InvalidDatabaseURL(url: serverURL) }
        let drop: @Sendable () async throws -> Void = {
            _ = try await withRunning(url: serverURL, logger: logger) { admin in
                try await admin.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: logger)
            }
        }
        _ = try await withRunning(url: serverURL, logger: logger) { admin in
            try await admin.query("CREATE DATABASE \(unescaped: name)", logger: logger)
        }
        do {
            let result = try await withRunning(url: url, logger: logger) { client in try await body(client, url) }
            try await drop()
            return result
        } catch {
            try? await drop()
            throw error
        }
    }
}
