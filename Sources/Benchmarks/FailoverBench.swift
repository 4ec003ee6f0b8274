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

/// `cellar bench failover`: a 3-member PostgreSQL cluster (weights 50 on the first primary, 100 and 10 on the
/// replicas), a write loop through the read-write endpoint, `kill -9` of the primary's whole server (the postmaster and all its processes, as a node crash): the time from the
/// last acknowledged commit before the kill to the first after (RTO), acknowledged commits missing afterwards
/// (RPO) and the member promoted, in asynchronous and synchronous mode, next to a bare `pg_ctl promote` of a
/// caught-up standby in the same run.
struct FailoverBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Failover of a PostgreSQL cluster under writes (RTO, RPO, who was promoted) next to a bare pg_ctl promote."
    )

    func run() async throws {
        let osUser = BenchControlPlane.osUserForServers
        let addresses = try Self.freeAddresses(prefix: "127.45.0", count: 2)
        let promote = try await onDedicatedThread { try PromoteBaseline.time(addresses: addresses, osUser: osUser) }
        let runs = try await BenchControlPlane.run { plane in
            [try await Self.measure(synchronous: false, plane), try await Self.measure(synchronous: true, plane)]
        }
        print("cellar bench failover: 3 PostgreSQL members, weights 50 (first primary) / 100 / 10; kill -9 of the primary's server process tree")
        var rows = [["bare pg_ctl promote of a caught-up standby (baseline)", "\(Self.milliseconds(promote)) ms", "-", "-", "baseline"]]
        for run in runs {
            rows.append([
                "failover, \(run.synchronous ? "synchronous" : "asynchronous") (RTO: longest gap between acknowledged commits)",
                "\(Self.milliseconds(run.rto)) ms", "\(run.lost) of \(run.acknowledged)", run.promoted, BenchFigures.ratio(run.rto, to: promote),
            ])
        }
        print(TextTable.render(header: ["SCENARIO", "TIME", "ACKED COMMITS LOST", "PROMOTED", "VS BASELINE"], rows: rows))
    }

    static func milliseconds(_ seconds: Double) -> String { String(format: "%.0f", seconds * 1000) }

    struct Run: Sendable {
        var synchronous: Bool
        var rto: Double
        var lost: Int
        var acknowledged: Int
        var promoted: String
    }

    /// One failover under writes.
    static func measure(synchronous: Bool, _ plane: BenchControlPlane) async throws -> Run {
        let commands = ClusterCommands(store: plane.store, client: plane.client, chart: plane.charts.cluster, logger: plane.logger)
        let reads = ClusterReadModel(client: plane.client, logger: plane.logger)
        let version = try await plane.version(ofManager: "postgresql")
        let id = UUID().uuidString.lowercased()
        let weights = [50, 100, 10]
        let names = ["first-primary (50)", "weight 100", "weight 10"]
        let request = Cluster.CreateRequest(
            id: id, projectId: "bench", name: "failover",
            datastore: Datastore(type: version.datastoreName, version: version.name, manager: version.manager),
            members: weights.enumerated().map { index, weight in
                Cluster.Member(
                    id: UUID().uuidString.lowercased(), name: "bench-\(index + 1)", flavorId: "1", volumeSize: 1, type: "replica", weight: weight)
            },
            synchronous: synchronous)
        try await commands.execute(.create(request), on: id, caller: plane.caller, requestID: "bench-failover")
        let balancer = try await plane.awaitReadyCluster(id, members: 3, pollingEvery: .milliseconds(100))
        let primary = request.members[0].id
        try await plane.enableRoot(on: primary, password: SessionWriter.password)
        var endpoint = PostgresConnection.Configuration(
            host: balancer, port: 5432, username: "root", password: SessionWriter.password,
            database: "postgres", tls: .disable)
        // No write waits forever (a commit waiting for a standby that never comes ends in an error, counted unacknowledged).
        endpoint.options.additionalStartupParameters = [("statement_timeout", "10000")]
        endpoint.options.connectTimeout = .seconds(3)
        try await Self.execute("CREATE TABLE bench_log (id bigint PRIMARY KEY)", on: endpoint, logger: plane.logger)

        let loop = WriteLoop(endpoint: endpoint, logger: plane.logger)
        let writer = Task { await loop.run() }
        try await Task.sleep(for: .seconds(2))
        let postmasters = ProcessStatus.processes(commandLineContaining: "-D \(plane.instancesDirectory.appendingPathComponent(primary).path)/data")
        guard postmasters.count == 1 else { throw ValidationError("the primary's server was not found (\(postmasters.count) candidates)") }
        let killedAt = ContinuousClock.now
        let killedAtDate = Date()
        // A node crash: the postmaster and every server process at once, not the postmaster alone (whose
        // sessions would go on a moment without it).
        ProcessStatus.killTree(of: postmasters[0])
        var promoted: String?
        while promoted == nil {
            guard ContinuousClock.now - killedAt < .seconds(120) else { throw ValidationError("no failover within 120 s") }
            try await Task.sleep(for: .milliseconds(100))
            if let state = try await reads.cluster(id, project: nil)?.state {
                if let failure = state.failure { throw ValidationError("the failover failed: \(failure.reason)") }
                if state.task.name == "NONE", let now = state.primaryId, now != primary { promoted = now }
            }
        }
        while await loop.acknowledgedAfter(killedAt) < 50 {
            guard ContinuousClock.now - killedAt < .seconds(120) else {
                writer.cancel()
                throw ValidationError(
                    "writes through the read-write endpoint did not resume within 120 s of the kill"
                        + ((await loop.lastError).map { " (the last write: \($0))" } ?? ""))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        writer.cancel()
        _ = await writer.value
        let (acknowledged, rto) = await loop.outage(around: killedAt)
        let stored = try await Self.ids(on: endpoint, logger: plane.logger)
        let steps = try await plane.store.readStream("cluster-\(id)", fromVersion: 1, limit: 100)
            .filter { $0.recordedAt >= killedAtDate }
            .map { "\($0.type) +\(Int(($0.recordedAt.timeIntervalSince(killedAtDate)) * 1000)) ms" }
        print("  \(synchronous ? "synchronous" : "asynchronous"): \(steps.joined(separator: ", "))")
        let lost = acknowledged.filter { !stored.contains($0) }.count
        try await commands.execute(.delete, on: id, caller: plane.caller, requestID: "bench-failover-delete")
        while try await reads.cluster(id, project: nil) != nil { try await Task.sleep(for: .milliseconds(200)) }
        let index = request.members.firstIndex { $0.id == promoted } ?? 0
        return Run(synchronous: synchronous, rto: rto, lost: lost, acknowledged: acknowledged.count, promoted: names[index])
    }

    static func execute(_ sql: String, on endpoint: PostgresConnection.Configuration, logger: Logger) async throws {
        let connection = try await PostgresConnection.connect(configuration: endpoint, id: 0, logger: logger)
        defer { Task { try? await connection.close() } }
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }

    static func ids(on endpoint: PostgresConnection.Configuration, logger: Logger) async throws -> Set<Int64> {
        let connection = try await PostgresConnection.connect(configuration: endpoint, id: 0, logger: logger)
        defer { Task { try? await connection.close() } }
        var ids: Set<Int64> = []
        for try await id in try await connection.query("SELECT id FROM bench_log", logger: logger).decode(Int64.self) { ids.insert(id) }
        return ids
    }

    /// `count` addresses `<prefix>.<n>` whose port 5432 is free.
    static func freeAddresses(prefix: String, count: Int) throws -> [String] {
        let free = (1...254).map { "\(prefix).\($0)" }.filter { Loopback.isFree(port: 5432, host: $0) }
        guard free.count >= count else { throw ValidationError("fewer than \(count) free addresses in \(prefix).0/24") }
        return Array(free.prefix(count))
    }
}

/// Single-row autocommit inserts through one connection, reconnecting after any error: when each commit was
/// acknowledged.
actor WriteLoop {
    let endpoint: PostgresConnection.Configuration
    let logger: Logger
    private var acknowledged: [(id: Int64, at: ContinuousClock.Instant)] = []
    /// The last write's error, if it failed (why writes have not resumed).
    private(set) var lastError: String?

    init(endpoint: PostgresConnection.Configuration, logger: Logger) {
        self.endpoint = endpoint
        self.logger = logger
    }

    func run() async {
        var connection: PostgresConnection?
        var next: Int64 = 1
        while !Task.isCancelled {
            do {
                if connection == nil { connection = try await PostgresConnection.connect(configuration: endpoint, id: Int(next), logger: logger) }
                // Guarded: a plain query on a connection the balancer has just closed waits forever, unseen.
                try await connection!.guardedQuery("INSERT INTO bench_log VALUES (\(next))", logger: logger)
                acknowledged.append((next, .now))
                lastError = nil
            } catch {
                lastError = String(reflecting: error)
                if let lost = connection { Task { try? await lost.close() } }
                connection = nil
                try? await Task.sleep(for: .milliseconds(10))
            }
            next += 1
        }
        if let connection { try? await connection.close() }
    }

    func acknowledgedAfter(_ instant: ContinuousClock.Instant) -> Int { acknowledged.filter { $0.at > instant }.count }

    /// Every acknowledged id, and the writes' outage after `instant`: the longest time between two consecutive
    /// acknowledgements from then on (the killed server's sessions may still acknowledge a moment after the kill,
    /// until they notice their postmaster is gone).
    func outage(around instant: ContinuousClock.Instant) -> ([Int64], Double) {
        (acknowledged.map(\.id), BenchFigures.longestGap(acknowledged.map(\.at), after: instant))
    }
}

/// The baseline: a primary and a streaming standby, bare (initdb, pg_basebackup, pg_ctl), the primary stopped at
/// once, then `pg_ctl promote -w` of the caught-up standby, timed.
enum PromoteBaseline {
    static func time(addresses: [String], osUser: String?) throws -> Double {
        let binaries = try PostgresBinaries.locate()
        let root = URL(fileURLWithPath: "/var/tmp/cellar/bench-promote-\(getpid())")
        defer {
            for name in ["primary", "standby"] {
                _ = try? CommandRunner.run(
                    binaries.path("pg_ctl"), ["-D", root.appendingPathComponent(name).path, "-m", "immediate", "-w", "stop"],
                    asUser: osUser, allowFailure: true)
            }
            try? FileManager.default.removeItem(at: root)
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        func owned(_ name: String) throws -> String {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if let osUser {
                try FileManager.default.setAttributes([.ownerAccountName: osUser, .groupOwnerAccountName: osUser], ofItemAtPath: folder.path)
            }
            return folder.path
        }
        if let osUser { try FileManager.default.setAttributes([.ownerAccountName: osUser], ofItemAtPath: root.path) }
        let (primary, standby) = (try owned("primary"), try owned("standby"))
        let (primarySockets, standbySockets) = (try owned("primary-sockets"), try owned("standby-sockets"))
        func run(_ tool: String, _ arguments: [String]) throws -> String {
            try CommandRunner.run(binaries.path(tool), arguments, asUser: osUser)
        }
        _ = try run("initdb", ["-D", primary, "-U", "postgres", "-A", "trust", "--no-sync"])
        _ = try run(
            "pg_ctl", ["-D", primary, "-w", "-s", "-l", primary + "/log", "-o", "-c listen_addresses=\(addresses[0]) -k \(primarySockets)", "start"])
        _ = try run(
            "pg_basebackup", ["-h", addresses[0], "-p", "5432", "-U", "postgres", "-D", standby, "-R", "-X", "stream", "-c", "fast", "--no-sync"])
        _ = try run(
            "pg_ctl", ["-D", standby, "-w", "-s", "-l", standby + "/log", "-o", "-c listen_addresses=\(addresses[1]) -k \(standbySockets)", "start"])
        func psql(_ sockets: String, _ sql: String) throws -> String {
            try CommandRunner.run("/usr/bin/psql", ["-h", sockets, "-p", "5432", "-U", "postgres", "-d", "postgres", "-tAc", sql], asUser: osUser)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try psql(primarySockets, "CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
        let target = try psql(primarySockets, "SELECT pg_current_wal_lsn()")
        let deadline = Date().addingTimeInterval(30)
        while try psql(standbySockets, "SELECT pg_last_wal_replay_lsn() >= '\(target)'") != "t" {
            guard Date() < deadline else { throw ValidationError("the baseline's standby did not catch up") }
            usleep(20_000)
        }
        _ = try run("pg_ctl", ["-D", primary, "-m", "immediate", "-w", "-s", "stop"])
        let started = ContinuousClock.now
        _ = try run("pg_ctl", ["-D", standby, "-w", "-s", "promote"])
        return (ContinuousClock.now - started).seconds
    }
}
