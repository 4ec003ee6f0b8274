import Foundation
import Logging
import PostgresNIO

/// A migration whose recorded checksum no longer matches its file: migrations are never edited once applied.
public struct MigrationChanged: Error, CustomStringConvertible {
    public var name: String
    public var description: String {
        "migration \(name) was changed after it was applied; add a new migration instead of editing an old one"
    }
}

/// Applies `migrations/NNNN_name.sql` in order, each in its own transaction, recorded in `schema_migrations`.
///
/// Safe to run again (applied files are skipped) and from several processes at once (an advisory lock
/// serializes them).
public struct MigrationRunner: Sendable {
    let client: PostgresClient
    let directory: URL
    let logger: Logger

    public init(client: PostgresClient, directory: URL, logger: Logger) {
        self.client = client
        self.directory = directory
        self.logger = logger
    }

    /// The migration files, in order.
    public func migrationFiles() throws -> [(name: String, sql: String)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") && $0.first?.isNumber == true }
            .sorted()
        return try names.map { ($0, try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)) }
    }

    /// Applies every pending migration; returns the names applied by this call.
    @discardableResult
    public func migrate() async throws -> [String] {
        var newlyApplied: [String] = []
        for file in try migrationFiles() where try await apply(file) {
            logger.info("applied migration", metadata: ["migration": "\(file.name)"])
            newlyApplied.append(file.name)
        }
        return newlyApplied
    }

    /// Applies one file unless it is recorded already; false when it was.
    private func apply(_ file: (name: String, sql: String)) async throws -> Bool {
        let logger = self.logger
        let checksum = Self.checksum(file.sql)
        return try await client.withGuardedTransaction(logger: logger) { connection in
            try await connection.guardedQuery("SELECT pg_advisory_xact_lock(hashtext('cellar:migrations'))", logger: logger)
            try await connection.guardedQuery(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            let recorded = try await connection.guardedQuery(
                "SELECT checksum FROM schema_migrations WHERE name = \(file.name)", logger: logger)
            for try await recordedChecksum in recorded.decode(String.self) {
                guard recordedChecksum == checksum else { throw MigrationChanged(name: file.name) }
                return false
            }
            for statement in SQLScript.statements(in: file.sql) {
                try await connection.guardedQuery(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.guardedQuery(
                "INSERT INTO schema_migrations (name, checksum) VALUES (\(file.name), \(checksum))", logger: logger)
            return true
        }
    }

    /// FNV-1a 64 over the file's bytes; enough to notice an edited migration.
    static func checksum(_ text: String) -> String {
        String(FNV1a.hash(text.utf8), radix: 16)
    }
}
