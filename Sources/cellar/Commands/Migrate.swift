import ArgumentParser
import CellarCLI
import EventStore
import Logging

/// `cellar migrate`: applies pending `migrations/*.sql`.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations (recorded in schema_migrations).")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let logger = Logger.cellar("cellar.migrate", defaultLevel: .info)
        let directory = try ProjectFiles.migrations()
        let applied = try await database.withEventStore(logger: logger) { _, client in
            try await MigrationRunner(client: client, directory: directory, logger: logger).migrate()
        }
        print(applied.isEmpty ? "database is up to date" : "applied: \(applied.joined(separator: ", "))")
    }
}
