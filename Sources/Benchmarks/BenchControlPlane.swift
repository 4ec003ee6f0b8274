import API
import APICore
import ArgumentParser
import Bus
import CellarCLI
import Compute
import Conductor
import EventStore
import Foundation
import Lifecycle
import LocalServers
import Logging
import ObjectStore
import PostgresNIO
import ReadModels
import Secrets
import TaskManager

/// The whole control plane in this process for a benchmark (relay, projections, task manager, conductor) on a
/// throw-away private PostgreSQL + RabbitMQ of its own, so no other Cellar on the machine sees its instances;
/// everything is removed afterwards.
struct BenchControlPlane {
    let client: PostgresClient
    let store: PostgresEventStore
    let charts: StatechartLibrary
    let secrets: SecretBox
    let logger: Logger
    /// Where the compute driver keeps the instances' folders.
    let instancesDirectory: URL
    /// The stack's private object store (backups).
    let backupStoreURL: String?
    /// An admin of the bench's own project.
    let caller = AuthContext(userID: "bench", userName: "bench", projectID: "bench", projectName: "bench", roles: ["admin"])
    static let addressPool = "127.44"

    /// Starts the private servers and the control plane, runs `body`, stops everything. `extraSagas` are started by
    /// the task manager too (their trigger events reach its queue from streams of category `probe`).
    static func run<T: Sendable>(
        extraSagas: [(eventType: String, kind: Saga.Kind)] = [],
        _ body: @escaping @Sendable (BenchControlPlane) async throws -> T
    ) async throws -> T {
        let logger = Logger.cellar("cellar.bench")
        let state = StateDirectory(path: "/var/tmp/cellar/bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: state.url) }
        let stack = try LocalStack(stateDirectory: state, durable: false)
        say("Starting a private PostgreSQL, RabbitMQ and Swift for the benchmark ...")
        try await stack.startInBackground(logger: logger)
        defer { stack.stop() }
        let instancesDirectory = state.url.appendingPathComponent("instances")
        let settings = ControlPlaneSettings(
            instancesDirectory: instancesDirectory, heartbeatInterval: 1, heartbeatExpiry: 90,
            reviveInterval: 3600, addressPool: addressPool, databaseOSUser: databaseOSUser,
            brokerManagementURL: stack.rabbitMQ.managementURL)
        let amqpURL = stack.rabbitMQ.url
        let driver = try settings.computeDriver(amqpURL: amqpURL, secrets: try SecretKeyFile.box(stateDirectory: state.url))
        defer { driver.stopAll() }
        let brokerAccounts = try settings.brokerAccounts(amqpURL: amqpURL, logger: logger)
        return try await ReadableError.translating {
            try await PostgresClient.withRunning(url: stack.postgres.url, logger: logger) { client in
                let root = try ProjectFiles.root()
                try await MigrationRunner(client: client, directory: root.appendingPathComponent("migrations"), logger: logger).migrate()
                try await OperatorCatalog(client: client, logger: logger).seedDefaults()
                let store = PostgresEventStore(client: client, logger: logger)
                let charts = try StatechartLibrary.load(directory: root.appendingPathComponent("statecharts"))
                let secrets = try SecretKeyFile.box(stateDirectory: state.url)
                let publisher = try BusPublisher(url: amqpURL, role: .controlPlane(sagaTriggers: Saga.Kind.triggerRoutingKeys))
                defer { publisher.shutdown() }
                try await publisher.declare(
                    Topology.taskManagerQueueSpec,
                    bindings: extraSagas.map {
                        Binding(exchange: Topology.eventsExchange, routingKey: Topology.routingKey(streamID: "probe-", eventType: $0.eventType))
                    })
                let plane = BenchControlPlane(
                    client: client, store: store, charts: charts, secrets: secrets, logger: logger,
                    instancesDirectory: instancesDirectory, backupStoreURL: stack.objectStore.url)
                let objectStore = SwiftObjectStore(location: try StoreLocation(url: stack.objectStore.url))
                return try await withThrowingTaskGroup(of: T?.self) { group in
                    group.addTask {
                        try await EventRelay(store: store, publisher: publisher, logger: logger).run()
                        return nil
                    }
                    for projection in ReadModelProjections.all(charts: charts) {
                        group.addTask {
                            try await ProjectionRunner(store: store, projection: projection).run()
                            return nil
                        }
                    }
                    group.addTask {
                        try await TaskManager(
                            client: client, store: store, charts: charts, compute: driver, amqpURL: amqpURL,
                            publisher: publisher, secrets: secrets, brokerAccounts: brokerAccounts, objectStore: objectStore,
                            logger: logger, addressPool: addressPool, triggers: Saga.Kind.triggerTable + extraSagas
                        ).run()
                        return nil
                    }
                    group.addTask {
                        try await Conductor(
                            client: client, store: store, chart: charts.instance, amqpURL: amqpURL,
                            heartbeatExpiry: .seconds(90), logger: logger
                        ).run()
                        return nil
                    }
                    group.addTask { try await body(plane) }
                    defer { group.cancelAll() }
                    while let result = try await group.next() {
                        if let result { return result }
                    }
                    throw ValidationError("the benchmark's control plane stopped")
                }
            }
        }
    }

    /// The OS user database servers run as when this process is root.
    static var databaseOSUser: String { ProcessInfo.processInfo.environment["CELLAR_DB_OS_USER"] ?? "cellar-db" }
    static var osUserForServers: String? { getuid() == 0 ? databaseOSUser : nil }

    /// Waits until the cluster's task is NONE with `members` members, all ACTIVE (a failure throws; 300 s at most);
    /// returns its balancer's address.
    func awaitReadyCluster(_ id: String, members count: Int, pollingEvery interval: Duration) async throws -> String {
        let clusters = ClusterReadModel(client: client, logger: logger)
        let members = InstanceReadModel(client: client, logger: logger)
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(300) {
            if let record = try await clusters.cluster(id, project: nil) {
                if let fault = record.state.failure { throw ValidationError("the cluster failed: \(fault.reason)") }
                let rows = try await members.members(ofCluster: id)
                if record.state.task.name == "NONE", rows.count == count, rows.values.allSatisfy({ $0.status == "ACTIVE" }),
                    let address = record.state.balancer?.address
                {
                    return address
                }
            }
            try await Task.sleep(for: interval)
        }
        throw ValidationError("the cluster was not ready in 300 s")
    }

    /// Enables root on an instance with `password` through the instance's own saga, and waits for the outcome.
    func enableRoot(on instanceID: String, password: String) async throws {
        let instances = InstanceCommands(store: store, client: client, chart: charts.instance, secrets: secrets, logger: logger)
        let recorded = try await instances.execute(
            .requestGuestChange(.enableRoot), on: instanceID, caller: caller, requestID: "bench-root",
            secrets: [(name: .root, password: password)])
        let applied = try await instances.awaitOutcome(of: instanceID, after: recorded.last?.streamVersion ?? 0, requestID: "bench-root") {
            event -> Bool? in
            switch event {
            case .guestChangeApplied: true
            case .guestChangeFailed: false
            default: nil
            }
        }
        guard applied == true else { throw ValidationError("root could not be enabled on \(instanceID)") }
    }

    /// The password of the user `app` of `createActiveInstance`'s instances.
    static let appPassword = "bench-password"

    /// Creates a PostgreSQL instance (database and user `app`; from a backup when given) and waits until it is ACTIVE
    /// and HEALTHY (ERROR throws; 600 s at most); its id and address.
    func createActiveInstance(name: String, restoreFrom backupID: String?) async throws -> (id: String, address: String) {
        let commands = InstanceCommands(store: store, client: client, chart: charts.instance, secrets: secrets, logger: logger)
        let reads = InstanceReadModel(client: client, logger: logger)
        let version = try await self.version(ofManager: "postgresql")
        let id = UUID().uuidString.lowercased()
        let restoring = backupID != nil
        let request = Instance.CreateRequest(
            id: id, projectId: "bench", name: name, flavorId: "1", volumeSize: 10,
            datastore: Datastore(type: version.datastoreName, version: version.name, manager: version.manager),
            databases: restoring ? [] : [Instance.DatabaseSpec(name: "app", characterSet: nil, collate: nil)],
            users: restoring ? [] : [Instance.UserRequest(name: "app", host: "%", password: Secret(Self.appPassword), databases: ["app"])],
            configurationId: nil, replicaOf: nil, restoreFrom: backupID)
        try await commands.execute(.create(request), on: id, caller: caller, requestID: "bench-\(name)")
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(600) {
            if let record = try await reads.instance(id, project: nil) {
                if record.status == "ACTIVE", record.operatingStatus == "HEALTHY", let address = record.address { return (id, address) }
                if record.status == "ERROR" { throw ValidationError("instance \(name) failed: \(record.faultMessage ?? "")") }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ValidationError("instance \(name) was not ACTIVE in 600 s")
    }

    /// The datastore of an instance, from its stream.
    func datastore(ofInstance id: String) async throws -> Datastore {
        let instance = try await AggregateRepository<Instance>(category: "instance", store: store, chart: charts.instance).load(id).state
        guard let datastore = instance.datastore else { throw ValidationError("instance \(id) has no datastore") }
        return datastore
    }

    /// The catalog's version run by `manager`.
    func version(ofManager manager: String) async throws -> DatastoreVersion {
        guard let version = try await OperatorCatalog(client: client, logger: logger).versions().first(where: { $0.manager == manager }) else {
            throw ValidationError("the catalog has no datastore version run by '\(manager)'")
        }
        return version
    }
}

/// Figures of a benchmark run.
enum BenchFigures {
    /// The longest wait between two consecutive acknowledgements (in order) whose later one came after `instant`:
    /// a write path's outage around an event there.
    static func longestGap(_ acknowledged: [ContinuousClock.Instant], after instant: ContinuousClock.Instant) -> Double {
        var longest: Duration = .zero
        for (previous, next) in zip(acknowledged, acknowledged.dropFirst()) where next > instant {
            longest = max(longest, next - previous)
        }
        return longest.seconds
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func seconds(_ value: Double) -> String { String(format: "%.2f", value) }

    static func ratio(_ value: Double, to baseline: Double) -> String { String(format: "%.2f×", value / max(baseline, 0.000_001)) }
}
