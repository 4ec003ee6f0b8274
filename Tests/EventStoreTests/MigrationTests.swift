import CellarTestSupport
import EventStore
import Foundation
import Testing

@Suite("Migrations", .tags(.postgres))
struct MigrationTests {
    @Test("migrations are recorded and a second run applies nothing")
    func idempotent() async throws {
        try await TestDatabase.with { database in
            let runner = MigrationRunner(
                client: database.client, directory: TestServers.projectRoot.appendingPathComponent("migrations"),
                logger: TestServers.logger)
            #expect(try await runner.migrate().isEmpty)
            let rows = try await database.client.query("SELECT count(*) FROM schema_migrations", logger: TestServers.logger)
            for try await count in rows.decode(Int.self) { #expect(count == (try runner.migrationFiles().count)) }
        }
    }

    @Test("an applied migration whose file was edited is refused by name")
    func editedMigrationIsRefused() async throws {
        try await TestDatabase.with { database in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("0001_example.sql")
            try "CREATE TABLE example (id int); -- first".write(to: file, atomically: true, encoding: .utf8)
            let runner = MigrationRunner(client: database.client, directory: directory, logger: TestServers.logger)
            #expect(try await runner.migrate() == ["0001_example.sql"])
            try "CREATE TABLE example (id bigint);".write(to: file, atomically: true, encoding: .utf8)
            await #expect { try await runner.migrate() } throws: { error in
                (error as? MigrationChanged)?.name == "0001_example.sql"
            }
        }
    }
}
