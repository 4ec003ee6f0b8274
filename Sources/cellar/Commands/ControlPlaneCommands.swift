import ArgumentParser
import Bus
import CellarCLI
import Conductor
import EventStore
import Foundation
import GuestAgent
import Lifecycle
import LocalServers
import Logging
import PostgresNIO
import ReadModels
import ServiceLifecycle
import TaskManager

/// `cellar taskmanager`: the saga runner, against configured servers.
struct TaskManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "taskmanager", abstract: "Run the saga runner: builds, restarts, resizes and deletes instances.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var broker: BrokerOptions
    @Option(help: "Folder with secret.key and instances/ (default: $CELLAR_INSTANCES_DIR and $CELLAR_SECRET_KEY, else the local stack's).")
    var stateDir: String?

    func run() async throws {
        let logger = Logger.cellar("cellar.taskmanager", defaultLevel: .info)
        try await ReadableError.translating {
            let (databaseURL, amqpURL) = (try database.resolvedURL(), try broker.resolvedURL())
            let state = try stateDir.map { URL(fileURLWithPath: $0) } ?? LocalStack.ofThisClone()?.stateDirectory.url
            var settings = ControlPlaneSettings.fromEnvironment(stateDirectory: state)
            if settings.brokerManagementURL == nil, let stack = try LocalStack.ofThisClone(), stack.rabbitMQ.url == amqpURL {
                settings.brokerManagementURL = stack.rabbitMQ.managementURL
            }
            // The clone's own stack keeps its backups in its private Swift, as `cellar up` does.
            if settings.backupStoreURL == nil, let stack = try LocalStack.ofThisClone(), stack.rabbitMQ.url == amqpURL {
                settings.backupStoreURL = stack.objectStore.url
            }
            let client = PostgresClient(configuration: try .init(url: databaseURL), backgroundLogger: logger)
            let store = PostgresEventStore(client: client, logger: logger)
            let charts = try StatechartLibrary.load(directory: try ProjectFiles.statecharts())
            let publisher = try BusPublisher(url: amqpURL, role: .controlPlane(sagaTriggers: Saga.Kind.triggerRoutingKeys))
            defer { publisher.shutdown() }
            let taskManager = TaskManager(
                client: client, store: store, charts: charts,
                compute: try settings.computeDriver(amqpURL: amqpURL, secrets: try SecretKeyFile.box(stateDirectory: state)),
                amqpURL: amqpURL, publisher: publisher, secrets: try SecretKeyFile.box(stateDirectory: state),
                brokerAccounts: try settings.brokerAccounts(amqpURL: amqpURL, logger: logger), objectStore: try settings.backupStore(),
                logger: logger, reviveInterval: .seconds(settings.reviveInterval), addressPool: try settings.validated().addressPool,
                sagaLease: .milliseconds(Int(settings.sagaLease * 1000)), afterRecording: CrashPoint.hook())
            let migrations = MigrationGate(runner: MigrationRunner(client: client, directory: try ProjectFiles.migrations(), logger: logger))
            try await ServiceGroup(
                services: [client, TaskManagerService(taskManager: taskManager, migrations: migrations)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
            ).run()
        }
    }
}

/// `cellar conductor`: guest reports → events, and the projections behind the API.
struct ConductorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conductor", abstract: "Turn guest heartbeats into events and keep the read models current.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var broker: BrokerOptions

    func run() async throws {
        let logger = Logger.cellar("cellar.conductor", defaultLevel: .info)
        try await ReadableError.translating {
            let (databaseURL, amqpURL) = (try database.resolvedURL(), try broker.resolvedURL())
            let settings = ControlPlaneSettings.fromEnvironment(stateDirectory: nil)
            let client = PostgresClient(configuration: try .init(url: databaseURL), backgroundLogger: logger)
            let store = PostgresEventStore(client: client, logger: logger)
            let charts = try StatechartLibrary.load(directory: try ProjectFiles.statecharts())
            let migrations = MigrationGate(runner: MigrationRunner(client: client, directory: try ProjectFiles.migrations(), logger: logger))
            let conductor = Conductor(
                client: client, store: store, chart: charts.instance, amqpURL: amqpURL,
                heartbeatExpiry: .seconds(settings.heartbeatExpiry), logger: logger)
            try await ServiceGroup(
                services: [
                    client,
                    ProjectionService(
                        runner: ProjectionRunner(store: store, projection: StreamCatalogProjection()), migrations: migrations, logger: logger),
                    ProjectionService(
                        runner: ProjectionRunner(store: store, projection: InstanceProjection(chart: charts.instance)), migrations: migrations,
                        logger: logger),
                    ProjectionService(
                        runner: ProjectionRunner(store: store, projection: ConfigurationProjection()), migrations: migrations, logger: logger),
                    ProjectionService(
                        runner: ProjectionRunner(store: store, projection: ClusterProjection(chart: charts.cluster)), migrations: migrations,
                        logger: logger),
                    ProjectionService(
                        runner: ProjectionRunner(store: store, projection: BackupProjection(chart: charts.backup)), migrations: migrations,
                        logger: logger),
                    ConductorService(conductor: conductor, migrations: migrations),
                ], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
            ).run()
        }
    }
}

/// `cellar guestagent`: started by the compute driver beside one datastore; not for people to run by hand.
struct GuestAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guestagent", abstract: "Run the guest agent of one instance (started by the compute driver).")

    @Option(help: "The instance this guest serves.") var instanceId: String
    @Option(help: "The instance's folder.") var directory: String
    @Option(help: "A short folder for the datastore's sockets.") var runtimeDirectory: String
    @Option(help: "The datastore's address.") var address: String
    @Option(help: "The datastore's port.") var port: Int = 5432
    @Option(help: "The datastore.") var datastore = "postgresql"
    @Option(help: "Seconds between heartbeats.") var heartbeatInterval: Double = 10
    @Option(help: "The file with this guest's own key (opens the passwords sealed for it).") var keyFile: String?

    func run() async throws {
        // A guest runs as its instance's OS user (the compute driver starts it so): whatever a tenant's root runs
        // in the database runs as that user too, so the guest must never be root.
        guard geteuid() != 0 else {
            throw ValidationError("the guest agent does not run as root; the compute driver starts it as its instance's user")
        }
        var logger = Logger.cellar("cellar.guestagent", defaultLevel: .info)
        logger[metadataKey: "instance"] = "\(instanceId)"
        guard let amqpURL = ProcessInfo.processInfo.environment["CELLAR_AMQP_URL"], !amqpURL.isEmpty else {
            throw ValidationError("CELLAR_AMQP_URL must name the broker (the compute driver sets it)")
        }
        let agent = try GuestAgent(
            configuration: .init(
                instanceID: instanceId, directory: URL(fileURLWithPath: directory, isDirectory: true),
                runtimeDirectory: URL(fileURLWithPath: runtimeDirectory, isDirectory: true), address: address, port: port,
                datastore: datastore, amqpURL: amqpURL, heartbeatInterval: .milliseconds(Int(heartbeatInterval * 1000)),
                keyFile: keyFile.map { URL(fileURLWithPath: $0) }), logger: logger)
        try await agent.run()
    }
}
