import API
import ArgumentParser
import CellarCLI
import EventStore
import Foundation
import Logging
import PostgresNIO

/// `cellar bench ...`: measurements reported as ratios against a baseline run in the same process.
public struct Bench: AsyncParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        abstract: "Benchmarks, each next to a baseline measured in the same run.",
        subcommands: [
            AppendBench.self, BusBench.self, CreateBench.self, ClusterBench.self, FailoverBench.self, ApiBench.self, SagaBench.self, LogBench.self,
            LoginBench.self, BackupBench.self,
        ]
    )
}

/// `cellar bench append`: event appends vs plain INSERTs of the same rows into a same-shaped table.
struct AppendBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Events/s for single and batched appends, next to plain INSERTs of the same rows, as ratios."
    )

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Events per scenario.") var events = 4000
    @Option(help: "Events per batched append.") var batch = 100
    @Option(help: "Concurrent writers.") var writers = 4

    func run() async throws {
        let logger = Logger.cellar("cellar.bench")
        let serverURL = try database.resolvedURL()
        let benchDatabase = "cellar_bench_\(getpid())"
        let scenario = AppendScenarios(events: events, batch: batch, writers: writers)
        let migrations = try ProjectFiles.migrations()
        let results = try await ReadableError.translating {
            try await PostgresClient.withScratchDatabase(named: benchDatabase, serverURL: serverURL, logger: logger) { client, _ in
                try await MigrationRunner(client: client, directory: migrations, logger: logger).migrate()
                // Same columns, defaults, identity, constraints and indexes; no append-only triggers.
                try await client.query("CREATE TABLE plain_events (LIKE events INCLUDING ALL)", logger: logger)
                return try await scenario.runAll(client: client, logger: logger)
            }
        }
        print("cellar bench append: \(events) events per scenario, \(writers) writers, batches of \(batch)")
        print(AppendScenarios.table(results))
    }
}
