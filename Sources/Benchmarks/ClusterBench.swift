import API
import ArgumentParser
import CellarCLI
import Foundation
import GuestAgent
import Lifecycle
import LocalServers
import ReadModels

/// `cellar bench cluster`: create→ready of a 3-member Galera cluster through the whole control plane, next to
/// three bare MariaDB servers and a manual Galera bootstrap in the same run; then write throughput through the
/// cluster's balancer next to a direct connection to one member (one session, single-row autocommit inserts);
/// then one member's server killed while inserts (a connection each) go through the balancer (`ClusterCrashRun`).
struct ClusterBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Galera cluster create→ready next to a manual bootstrap, and writes through the balancer next to one member, as ratios."
    )

    @Option(help: "Rows inserted per write run.") var rows = 2000

    func run() async throws {
        let osUser = BenchControlPlane.osUserForServers
        let addresses = try Self.freeAddresses(prefix: "127.45.0", count: 3)
        let baseline = try await onDedicatedThread { try GaleraBaseline.timeManualCluster(addresses: addresses, osUser: osUser) }
        let rowCount = rows
        let (ready, direct, balanced, crash) = try await BenchControlPlane.run { plane in try await Self.measure(rows: rowCount, plane) }
        print("cellar bench cluster: 3 MariaDB Galera members (debug builds are slower; compare ratios)")
        print(
            TextTable.render(
                header: ["SCENARIO", "FIGURE", "VS BASELINE"],
                rows: [
                    ["manual Galera bootstrap, 3 bare servers (baseline)", "\(BenchFigures.seconds(baseline)) s", "baseline"],
                    ["cluster create → ready (API to task NONE)", "\(BenchFigures.seconds(ready)) s", BenchFigures.ratio(ready, to: baseline)],
                    ["writes, direct to one member (baseline)", String(format: "%.0f rows/s", direct), "baseline"],
                    ["writes through the balancer", String(format: "%.0f rows/s", balanced), BenchFigures.ratio(balanced, to: direct)],
                ]))
        print("")
        print("one member's server killed (kill -9) during inserts through the balancer, one client connection each:")
        print(
            TextTable.render(
                header: ["FIGURE", "VALUE"],
                rows: [
                    ["longest wait between two acknowledged inserts", "\(BenchFigures.seconds(crash.longestGap)) s"],
                    ["inserts acknowledged", "\(crash.acknowledged)"],
                    ["member synced again after", "\(BenchFigures.seconds(crash.backAfter)) s"],
                    [
                        "acknowledged rows missing on a member",
                        crash.missing.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "),
                    ],
                ]))
    }

    /// Seconds to a ready cluster, then rows/s direct and through the balancer, then a member's crash.
    static func measure(rows: Int, _ plane: BenchControlPlane) async throws -> (Double, Double, Double, ClusterCrashRun.Outcome) {
        let commands = ClusterCommands(store: plane.store, client: plane.client, chart: plane.charts.cluster, logger: plane.logger)
        let reads = ClusterReadModel(client: plane.client, logger: plane.logger)
        let members = InstanceReadModel(client: plane.client, logger: plane.logger)
        let version = try await plane.version(ofManager: "mariadb")
        let id = UUID().uuidString.lowercased()
        let request = Cluster.CreateRequest(
            id: id, projectId: "bench", name: "bench",
            datastore: Datastore(type: version.datastoreName, version: version.name, manager: version.manager),
            members: (1...3).map { Cluster.Member(id: UUID().uuidString.lowercased(), name: "bench-member-\($0)", flavorId: "1", volumeSize: 1) })
        let started = ContinuousClock.now
        try await commands.execute(.create(request), on: id, caller: plane.caller, requestID: "bench-cluster")
        let balancer = try await plane.awaitReadyCluster(id, members: 3, pollingEvery: .milliseconds(50))
        let ready = (ContinuousClock.now - started).seconds
        guard let memberID = request.members.first?.id,
            let first = try await members.members(ofCluster: id)[memberID]?.address
        else {
            throw ValidationError("the ready cluster shows no member address")
        }
        // Root on one member is root on all: the accounts replicate.
        try await plane.enableRoot(on: memberID, password: SessionWriter.password)
        try SessionWriter(address: first).run("CREATE DATABASE bench; CREATE TABLE bench.rows (id INT PRIMARY KEY)")
        let direct = try SessionWriter(address: first).insertRate(rows: rows, from: 0)
        let balanced = try SessionWriter(address: balancer).insertRate(rows: rows, from: rows)
        var crashMembers: [(address: String, folder: URL)] = []
        let addresses = try await members.members(ofCluster: id)
        for member in request.members {
            guard let address = addresses[member.id]?.address else { throw ValidationError("member \(member.id) shows no address") }
            crashMembers.append((address, plane.instancesDirectory.appendingPathComponent(member.id)))
        }
        let crash = try await ClusterCrashRun(balancer: balancer, members: crashMembers).run()
        try await commands.execute(.delete, on: id, caller: plane.caller, requestID: "bench-cluster-delete")
        while try await reads.cluster(id, project: nil) != nil { try await Task.sleep(for: .milliseconds(200)) }
        return (ready, direct, balanced, crash)
    }

    /// `count` addresses `<prefix>.<n>` whose Galera ports are free.
    static func freeAddresses(prefix: String, count: Int) throws -> [String] {
        let free = (1...254).map { "\(prefix).\($0)" }.filter { address in
            [3306, 4444, 4567, 4568].allSatisfy { Loopback.isFree(port: $0, host: address) }
        }
        guard free.count >= count else { throw ValidationError("fewer than \(count) free addresses in \(prefix).0/24") }
        return Array(free.prefix(count))
    }
}

/// One `mariadb` client session as root over TCP, statements on its stdin.
struct SessionWriter {
    static let password = "bench-root-password"
    let address: String

    /// Runs `sql` in a new session (at most 2 s to connect); what it printed (tab-separated, no headers).
    @discardableResult
    func run(_ sql: String) throws -> String {
        try CommandRunner.run(
            "/usr/bin/mariadb",
            ["--no-defaults", "-h", address, "-P", "3306", "-u", "root", "--connect-timeout=2", "--batch", "--skip-column-names"],
            environment: ["MYSQL_PWD": Self.password], input: Data(sql.utf8))
    }

    /// Single-row autocommit inserts in one session: rows per second.
    func insertRate(rows: Int, from first: Int) throws -> Double {
        let sql = (first..<(first + rows)).map { "INSERT INTO bench.rows VALUES (\($0));" }.joined(separator: "\n")
        let started = ContinuousClock.now
        try run(sql)
        return Double(rows) / max((ContinuousClock.now - started).seconds, 0.000_001)
    }
}
