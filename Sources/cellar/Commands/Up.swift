import API
import Bus
import ArgumentParser
import EventStore
import Foundation
import Hummingbird
import LocalServers
import Logging
import Metrics
import PostgresNIO
import Prometheus
import ServiceLifecycle

/// `cellar up`: the whole stack in one process, with private PostgreSQL and RabbitMQ when none is configured.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the local stack: PostgreSQL + RabbitMQ (unless configured), migrations, HTTP API."
    )

    @Option(help: "Address the HTTP server binds to.") var host = "127.0.0.1"
    @Option(help: "HTTP port (default: $CELLAR_API_PORT, else 8779, Trove's port).") var port: Int?
    @Option(help: "Where private servers keep their data (default: $CELLAR_STATE_DIR, else /var/tmp/cellar/<clone>-<hash>).")
    var stateDir: String?

    func run() async throws {
        let logger = Logger.cellar("cellar", defaultLevel: .info)
        let environment = ProcessInfo.processInfo.environment
        let root = try ProjectFiles.root()
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let configuredDatabase = environment["CELLAR_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let configuredBroker = environment["CELLAR_AMQP_URL"].flatMap { $0.isEmpty ? nil : $0 }
        var privateServers: LocalStack.Servers = []
        if configuredDatabase == nil { privateServers.insert(.postgres) }
        if configuredBroker == nil { privateServers.insert(.rabbitMQ) }

        var stack: LocalStack?
        if !privateServers.isEmpty {
            let state = stateDir.map(StateDirectory.init(path:)) ?? StateDirectory.resolve(projectRoot: root)
            let created = try LocalStack(stateDirectory: state)
            state.link(from: root)
            say("Starting private \(privateServers) in \(state.url.path) ...")
            try await created.startInBackground(privateServers, logger: logger)
            stack = created
        }
        guard let databaseURL = configuredDatabase ?? stack?.postgres.url, let amqpURL = configuredBroker ?? stack?.rabbitMQ.url else {
            preconditionFailure("a private server is started for every URL not configured")
        }
        do {
            try await ReadableError.translating {
                try await serve(databaseURL: databaseURL, amqpURL: amqpURL, root: root, registry: registry, logger: logger)
            }
        } catch {
            await stack?.stopInBackground(privateServers)
            throw error
        }
        if let stack {
            say("Stopping private servers ...")
            await stack.stopInBackground(privateServers)
        }
    }

    private func serve(databaseURL: String, amqpURL: String, root: URL, registry: PrometheusCollectorRegistry, logger: Logger) async throws {
        let client = PostgresClient(configuration: try .init(url: databaseURL), backgroundLogger: logger)
        let store = PostgresEventStore(client: client, logger: logger)
        let port = self.port ?? ProcessInfo.processInfo.environment["CELLAR_API_PORT"].flatMap(Int.init) ?? 8779
        let host = self.host

        let publisher = try BusPublisher(url: amqpURL)
        defer { publisher.shutdown() }
        let busState: @Sendable () -> String? = {
            let status = publisher.status
            return status.connected ? nil : (status.lastError ?? "connecting")
        }

        let router = Router()
        router.add(middleware: MetricsMiddleware())
        router.addHealthRoutes(checker: HealthChecker(postgres: client, amqpURL: amqpURL, bus: busState, logger: logger))
        router.addMetricsRoutes(registry: registry)

        var app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "cellar"),
            onServerRunning: { _ in
                say("""
                    Cellar is up.
                      API        http://\(host):\(port)/
                      health     http://\(host):\(port)/healthz
                      metrics    http://\(host):\(port)/metrics
                      database   \(URLParts.redacted(databaseURL))
                      broker     \(URLParts.redacted(amqpURL))
                    Press Ctrl-C to stop.
                    """)
            },
            logger: logger
        )
        let migrations = MigrationGate(runner: MigrationRunner(client: client, directory: root.appendingPathComponent("migrations"), logger: logger))
        let catalog = ProjectionService(
            runner: ProjectionRunner(store: store, projection: StreamCatalogProjection()), migrations: migrations, logger: logger)
        let relay = RelayService(relay: EventRelay(store: store, publisher: publisher, logger: logger), migrations: migrations)
        app.addServices(client, catalog, relay)
        app.beforeServerStarts { try await migrations.ensureMigrated() }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}
