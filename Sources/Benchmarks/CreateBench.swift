import API
import ArgumentParser
import CellarCLI
import Foundation
import GuestAgent
import Lifecycle
import LocalServers
import ReadModels

/// `cellar bench create`: create→ACTIVE through the whole control plane (log, relay, task manager, guest agent,
/// conductor, projection), next to initializing and starting one bare server of the same datastore in the same
/// run (`initdb` + `pg_ctl start`; `mariadb-install-db` + `mariadbd`).
struct CreateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "create→ACTIVE time (p50, max) next to a bare server's initialization and start, as a ratio."
    )

    @Option(help: "Instances created one after another.") var instances = 5
    @Option(help: "The datastore's manager: postgresql or mariadb.") var datastore = "postgresql"

    func run() async throws {
        guard let reader = DatastoreCatalogReaders.reader(forManager: datastore) else {
            throw ValidationError("no datastore manager '\(datastore)'; choose one of \(DatastoreCatalogReaders.all.map { $0.managerName })")
        }
        let (count, manager) = (instances, datastore)
        let osUser = BenchControlPlane.osUserForServers
        let baseline = try await onDedicatedThread { try (0..<count).map { try reader.timeBareServerStart(osUser: osUser, index: $0) } }
        let created = try await BenchControlPlane.run { plane in try await Self.createToActive(count: count, manager: manager, plane) }
        print("cellar bench create: \(instances) \(datastore) instances, one after another (debug builds are slower; compare ratios)")
        print(
            TextTable.render(
                header: ["SCENARIO", "RUNS", "P50 (S)", "MAX (S)", "VS BARE SERVER"],
                rows: [
                    [
                        "bare server: initialize + start (baseline)", "\(baseline.count)", BenchFigures.seconds(BenchFigures.median(baseline)),
                        BenchFigures.seconds(baseline.max() ?? 0), "baseline",
                    ],
                    [
                        "create → ACTIVE (API to HEALTHY)", "\(created.count)", BenchFigures.seconds(BenchFigures.median(created)),
                        BenchFigures.seconds(created.max() ?? 0), BenchFigures.ratio(BenchFigures.median(created), to: BenchFigures.median(baseline)),
                    ],
                ]))
    }

    /// Seconds from the create command to ACTIVE + HEALTHY in the read model, for each of `count` instances.
    static func createToActive(count: Int, manager: String, _ plane: BenchControlPlane) async throws -> [Double] {
        let commands = InstanceCommands(
            store: plane.store, client: plane.client, chart: plane.charts.instance, secrets: plane.secrets,
            logger: plane.logger)
        let reads = InstanceReadModel(client: plane.client, logger: plane.logger)
        let version = try await plane.version(ofManager: manager)
        var durations: [Double] = []
        for index in 0..<count {
            let id = UUID().uuidString.lowercased()
            let request = Instance.CreateRequest(
                id: id, projectId: "bench", name: "bench-\(index)", flavorId: "1", volumeSize: 1,
                datastore: Datastore(type: version.datastoreName, version: version.name, manager: version.manager),
                databases: [Instance.DatabaseSpec(name: "app", characterSet: nil, collate: nil)],
                users: [Instance.UserRequest(name: "app", host: "%", password: Secret("bench-password"), databases: ["app"])],
                configurationId: nil, replicaOf: nil)
            let started = ContinuousClock.now
            try await commands.execute(.create(request), on: id, caller: plane.caller, requestID: "bench-\(index)")
            while true {
                if let record = try await reads.instance(id, project: nil) {
                    if record.status == "ACTIVE" && record.operatingStatus == "HEALTHY" { break }
                    if record.status == "ERROR" { throw ValidationError("instance \(id) failed: \(record.faultMessage ?? "")") }
                }
                guard ContinuousClock.now - started < .seconds(180) else { throw ValidationError("instance \(id) not ACTIVE in 180 s") }
                try await Task.sleep(for: .milliseconds(20))
            }
            durations.append((ContinuousClock.now - started).seconds)
            try await commands.execute(.delete, on: id, caller: plane.caller, requestID: "bench-delete-\(index)")
            // One at a time: the next create does not share the machine with this one's removal.
            while try await reads.instance(id, project: nil) != nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        return durations
    }
}
