import API
import ArgumentParser
import Bus
import Compute
import Conductor
import EventStore
import GuestAgent
import Foundation
import Lifecycle
import LocalServers
import Logging
import PostgresNIO
import ReadModels
import TaskManager

/// `cellar bench create`: create→ACTIVE through the whole control plane (log, relay, task manager, guest agent,
/// conductor, projection), next to initializing and starting one bare server of the same datastore in the same
/// run (`initdb` + `pg_ctl start`; `mariadb-install-db` + `mariadbd`).
///
/// It runs on a throw-away private PostgreSQL + RabbitMQ of its own, so no other Cellar on the machine sees its
/// instances, and removes everything afterwards.
struct CreateBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "create→ACTIVE time (p50, max) next to a bare server's initialization and start, as a ratio."
    )

    @Option(help: "Instances created one after another.") var instances = 5
    @Option(help: "The datastore's manager: postgresql or mariadb.") var datastore = "postgresql"

    func run() async throws {
        let logger = Logger.cellar("cellar.bench")
        let state = StateDirectory(path: "/var/tmp/cellar/bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: state.url) }
        let stack = try LocalStack(stateDirectory: state, durable: false)
        say("Starting a private PostgreSQL and RabbitMQ for the benchmark ...")
        try await stack.startInBackground(logger: logger)
        defer { stack.stop() }
        let settings = ControlPlaneSettings(
            instancesDirectory: state.url.appendingPathComponent("instances"), heartbeatInterval: 1, heartbeatExpiry: 90,
            reviveInterval: 3600, addressPool: "127.44", databaseOSUser: ProcessInfo.processInfo.environment["CELLAR_DB_OS_USER"] ?? "cellar-db",
            brokerManagementURL: stack.rabbitMQ.managementURL)
        let driver = try settings.computeDriver(amqpURL: stack.rabbitMQ.url, secrets: try SecretKeyFile.box(stateDirectory: state.url))
        defer { driver.stopAll() }

        guard let reader = DatastoreCatalogReaders.reader(forManager: datastore) else {
            throw ValidationError("no datastore manager '\(datastore)'; choose one of \(DatastoreCatalogReaders.all.map { $0.managerName })")
        }
        let osUser = getuid() == 0 ? settings.databaseOSUser : nil
        let count = instances
        let baseline = try await onDedicatedThread { try (0..<count).map { try reader.timeBareServerStart(osUser: osUser, index: $0) } }
        let created = try await ReadableError.translating {
            try await PostgresClient.withRunning(url: stack.postgres.url, logger: logger) { client in
                try await Self.createToActive(count: instances, manager: datastore, client: client, amqpURL: stack.rabbitMQ.url, driver: driver,
                                              brokerAccounts: try settings.brokerAccounts(amqpURL: stack.rabbitMQ.url, logger: logger),
                                              stateDirectory: state.url, logger: logger)
            }
        }
        print("cellar bench create: \(instances) \(datastore) instances, one after another (debug builds are slower; compare ratios)")
        print(TextTable.render(header: ["SCENARIO", "RUNS", "P50 (S)", "MAX (S)", "VS BARE SERVER"], rows: [
            ["bare server: initialize + start (baseline)", "\(baseline.count)", Self.format(Self.median(baseline)), Self.format(baseline.max() ?? 0), "baseline"],
            ["create → ACTIVE (API to HEALTHY)", "\(created.count)", Self.format(Self.median(created)), Self.format(created.max() ?? 0),
             String(format: "%.2f×", Self.median(created) / max(Self.median(baseline), 0.001))],
        ]))
    }

    /// Seconds from the create command to ACTIVE + HEALTHY in the read model, for each of `count` instances.
    static func createToActive(count: Int, manager: String, client: PostgresClient, amqpURL: String, driver: ProcessComputeDriver,
                               brokerAccounts: BrokerAccounts?, stateDirectory: URL, logger: Logger) async throws -> [Double] {
        let root = try ProjectFiles.root()
        try await MigrationRunner(client: client, directory: root.appendingPathComponent("migrations"), logger: logger).migrate()
        try await OperatorCatalog(client: client, logger: logger).seedDefaults()
        let store = PostgresEventStore(client: client, logger: logger)
        let charts = try StatechartLibrary.load(directory: root.appendingPathComponent("statecharts"))
        let secrets = try SecretKeyFile.box(stateDirectory: stateDirectory)
        let publisher = try BusPublisher(url: amqpURL)
        defer { publisher.shutdown() }
        let commands = InstanceCommands(store: store, client: client, chart: charts.instance, secrets: secrets, logger: logger)
        let reads = InstanceReadModel(client: client, logger: logger)
        guard let version = try await OperatorCatalog(client: client, logger: logger).versions().first(where: { $0.manager == manager }) else {
            throw ValidationError("the catalog has no datastore version run by '\(manager)'")
        }
        let caller = AuthContext(userID: "bench", userName: "bench", projectID: "bench", projectName: "bench", roles: ["admin"])
        return try await withThrowingTaskGroup(of: [Double].self) { group in
            group.addTask { try await EventRelay(store: store, publisher: publisher, logger: logger).run(); return [] }
            group.addTask { try await ProjectionRunner(store: store, projection: InstanceProjection(chart: charts.instance)).run(); return [] }
            group.addTask {
                try await TaskManager(client: client, store: store, charts: charts, compute: driver, amqpURL: amqpURL,
                                      publisher: publisher, secrets: secrets, brokerAccounts: brokerAccounts, logger: logger,
                                      addressPool: "127.44").run()
                return []
            }
            group.addTask {
                try await Conductor(client: client, store: store, chart: charts.instance, amqpURL: amqpURL,
                                    heartbeatExpiry: .seconds(90), logger: logger).run()
                return []
            }
            group.addTask {
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
                    try await commands.execute(.create(request), on: id, caller: caller, requestID: "bench-\(index)")
                    while true {
                        if let record = try await reads.instance(id, project: nil) {
                            if record.status == "ACTIVE" && record.operatingStatus == "HEALTHY" { break }
                            if record.status == "ERROR" { throw ValidationError("instance \(id) failed: \(record.faultMessage ?? "")") }
                        }
                        guard ContinuousClock.now - started < .seconds(180) else { throw ValidationError("instance \(id) not ACTIVE in 180 s") }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    durations.append((ContinuousClock.now - started).seconds)
                    try await commands.execute(.delete, on: id, caller: caller, requestID: "bench-delete-\(index)")
                    // One at a time: the next create does not share the machine with this one's removal.
                    while try await reads.instance(id, project: nil) != nil { try await Task.sleep(for: .milliseconds(50)) }
                }
                return durations
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if !result.isEmpty || count == 0 { return result }
            }
            return []
        }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func format(_ seconds: Double) -> String { String(format: "%.2f", seconds) }

}
