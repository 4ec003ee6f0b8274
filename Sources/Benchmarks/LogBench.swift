import API
import ArgumentParser
import CellarCLI
import EventStore
import Foundation
import Lifecycle
import LocalServers
import Logging
import PostgresNIO
import ReadModels

/// `cellar bench log`: a log of N events (instances created, restarted and resized, with their sagas, across 100
/// projects) on a private PostgreSQL: rebuilding every read model from it next to `COPY (SELECT ...) TO STDOUT`
/// of the same rows in the same run, then the audit trail's queries (filters, paging) as the API runs them.
struct LogBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Projection rebuild over a large log next to COPY of the same rows; audit-trail query latencies."
    )

    @Option(help: "Events in the log.") var events = 1_000_000
    @Option(help: "Runs of each audit-trail query.") var runs = 100

    func run() async throws {
        let logger = Logger.cellar("cellar.bench")
        let state = StateDirectory(path: "/var/tmp/cellar/bench-log-\(getpid())")
        defer { try? FileManager.default.removeItem(at: state.url) }
        let stack = try LocalStack(stateDirectory: state, durable: false)
        say("Starting a private PostgreSQL for the benchmark ...")
        try await stack.startInBackground(.postgres, logger: logger)
        defer { stack.stop(.postgres) }
        let (eventCount, runs, url) = (events, runs, stack.postgres.url)
        let report = try await ReadableError.translating {
            try await PostgresClient.withRunning(url: url, logger: logger) { client in
                let root = try ProjectFiles.root()
                try await MigrationRunner(client: client, directory: root.appendingPathComponent("migrations"), logger: logger).migrate()
                let log = SyntheticLog(client: client, logger: logger)
                say("Writing \(eventCount) events ...")
                let instances = try await log.write(events: eventCount)
                let written = try await log.count()
                let copy = try await onDedicatedThread { try Self.copyOut(url: url) }
                let store = PostgresEventStore(client: client, logger: logger)
                let charts = try StatechartLibrary.load(directory: root.appendingPathComponent("statecharts"))
                say("Rebuilding every read model ...")
                let started = ContinuousClock.now
                let rebuild = try await ReadModelRebuild(store: store, projections: ReadModelProjections.all(charts: charts)).run()
                let rebuilt = (ContinuousClock.now - started).seconds
                let audit = try await AuditQueries(
                    trail: AuditTrail(client: client, logger: logger), instances: instances,
                    instanceIDs: try await log.sampleInstanceIDs(1000)
                ).measure(runs: runs)
                return (written, copy, (rebuilt, rebuild), audit)
            }
        }
        let (written, copy, (rebuilt, rebuild), audit) = report
        print("cellar bench log: \(written) events (\(written / SyntheticLog.eventsPerInstance) instances with their sagas, 100 projects)")
        let rows = [
            [
                "COPY (SELECT ... FROM events ORDER BY global_position) TO STDOUT (baseline)", BenchFigures.seconds(copy),
                String(format: "%.0f", Double(written) / copy), "baseline",
            ],
            [
                "rebuild every read model in one pass (cellar events rebuild-projections)", BenchFigures.seconds(rebuilt),
                String(format: "%.0f", Double(written) / rebuilt), BenchFigures.ratio(copy, to: rebuilt),
            ],
        ]
        print(TextTable.render(header: ["SCENARIO", "SECONDS", "EVENTS/S", "VS COPY"], rows: rows))
        print("")
        print("where the one pass spent its time (each projection applies on its own connection, at once with the others and the read):")
        print(
            TextTable.render(
                header: ["PHASE", "SECONDS"],
                rows: [["waiting for the log's next batch", BenchFigures.seconds(rebuild.readWait)]]
                    + rebuild.applied.map { ["applying \($0.name)", BenchFigures.seconds($0.seconds)] }))
        print("")
        print("audit trail (GET /events and /instances/{id}/events queries), \(runs) runs each, random parameters:")
        print(
            TextTable.render(
                header: ["QUERY", "P50 MS", "P95 MS", "MAX MS"],
                rows: audit.map { name, times in
                    let sorted = times.sorted()
                    func at(_ fraction: Double) -> String {
                        String(format: "%.1f", sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] * 1000)
                    }
                    return [name, at(0.5), at(0.95), at(1.0)]
                }))
    }

    /// Seconds `psql` takes to copy every event out (to /dev/null).
    static func copyOut(url: String) throws -> Double {
        guard let parts = URLParts(url), let user = parts.user else { throw ValidationError("unusable database URL") }
        let psql = try PostgresBinaries.locate().path("psql")
        let started = ContinuousClock.now
        try CommandRunner.run(
            psql,
            [
                "-X", "-q", "-h", parts.host, "-p", "\(parts.port ?? 5432)", "-U", user, "-d", parts.path, "-o", "/dev/null", "-c",
                "COPY (SELECT global_position, stream_id, stream_version, event_type, data, metadata, recorded_at, tx_id FROM events ORDER BY global_position) TO STDOUT",
            ], environment: ["PGPASSWORD": parts.password ?? ""])
        return (ContinuousClock.now - started).seconds
    }
}

/// The audit trail's queries with random parameters, timed one after another.
struct AuditQueries {
    let trail: AuditTrail
    let instances: Int
    let instanceIDs: [String]

    func measure(runs: Int) async throws -> [(String, [Double])] {
        let day = Date(timeIntervalSince1970: SyntheticLog.firstRecorded)
        let span = Double(instances)  // one instance per second of recorded time
        let instanceIDs = self.instanceIDs
        let kinds: [(String, @Sendable () -> AuditTrail.Filter)] = [
            ("one project, first page of 100", { .init(project: SyntheticLog.project(Int.random(in: 0..<100))) }),
            (
                "one project, a page deep in its history",
                {
                    .init(project: SyntheticLog.project(Int.random(in: 0..<100)), after: Int64.random(in: 0..<Int64(span * 25)))
                }
            ),
            ("one project, one event type", { .init(project: SyntheticLog.project(Int.random(in: 0..<100)), type: "InstanceRestarted") }),
            (
                "one instance with its sagas",
                {
                    var filter = AuditTrail.Filter(project: nil, stream: "instance-\(instanceIDs.randomElement() ?? "")")
                    filter.includeSagas = true
                    return filter
                }
            ),
            ("one user's events (admin)", { .init(project: nil, actor: SyntheticLog.user(Int.random(in: 0..<1000))) }),
            (
                "a 10-minute window (admin)",
                {
                    let since = day.addingTimeInterval(Double.random(in: 0..<max(1, span - 600)))
                    return .init(project: nil, since: since, until: since.addingTimeInterval(600))
                }
            ),
        ]
        var results: [(String, [Double])] = []
        for (name, filter) in kinds {
            var times: [Double] = []
            for _ in 0..<runs {
                let chosen = filter()
                let started = ContinuousClock.now
                _ = try await trail.events(chosen)
                times.append((ContinuousClock.now - started).seconds)
            }
            results.append((name, times))
        }
        return results
    }
}
