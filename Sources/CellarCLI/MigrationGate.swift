import EventStore

/// Runs the migrations once per process; everything that needs the schema awaits the same run.
public actor MigrationGate {
    private let runner: MigrationRunner
    private var run: Task<[String], any Error>?

    public init(runner: MigrationRunner) { self.runner = runner }

    /// Returns once the schema is current; rethrows the migration error to every waiter.
    public func ensureMigrated() async throws {
        if run == nil {
            let runner = self.runner
            run = Task { try await runner.migrate() }
        }
        _ = try await run!.value
    }
}
