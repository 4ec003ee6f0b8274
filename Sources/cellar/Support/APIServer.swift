import API
import APICore
import Bus
import CellarCLI
import Compute
import Conductor
import EventStore
import Foundation
import Hummingbird
import Lifecycle
import Logging
import Metrics
import ObjectStore
import PostgresNIO
import Prometheus
import ReadModels
import Secrets
import ServiceLifecycle
import TaskManager

/// Everything `cellar up` and `cellar api` run in one process: HTTP (Trove API, identity, health, metrics),
/// the projections, and the event relay; the PostgreSQL client and the bus connection they share.
struct APIServer {
    var databaseURL: String
    var amqpURL: String
    var host: String
    var port: Int
    var root: URL
    /// Where the generated admin credentials are kept (the local stack's folder); nil: printed only.
    var stateDirectory: URL?
    var logger: Logger
    /// When set (`cellar up`), the task manager and the conductor run in this process too.
    var controlPlane: ControlPlaneSettings?
    /// Runs when the process has not stopped 30 s after a stop request; must end the process.
    var shutdownOverdue: @Sendable () -> Void = {
        FileHandle.standardError.write(Data("cellar: services did not stop in time; exiting\n".utf8))
        exit(1)
    }

    /// A login and a listing in the backup store, when one is configured (a bad URL stops the start here).
    func backupStoreCheck() throws -> (@Sendable () async -> String?)? {
        guard let store = try controlPlane?.backupStore() else { return nil }
        return {
            do {
                _ = try await store.list(container: "cellar-health", prefix: "")
                return nil
            } catch {
                return "\(error)"
            }
        }
    }

    func run() async throws {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let client = PostgresClient(configuration: try .init(url: databaseURL), backgroundLogger: logger)
        let store = PostgresEventStore(client: client, logger: logger)
        let charts = try StatechartLibrary.load(directory: root.appendingPathComponent("statecharts"))
        let publisher = try BusPublisher(url: amqpURL, role: .controlPlane(sagaTriggers: Saga.Kind.triggerRoutingKeys))
        defer { publisher.shutdown() }
        let changes = ReadModelChanges()
        let migrations = MigrationGate(
            runner: MigrationRunner(
                client: client, directory: root.appendingPathComponent("migrations"), logger: logger))
        let publicURL = ProcessInfo.processInfo.environment["CELLAR_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if publicURL == nil, ["0.0.0.0", "::", "[::]"].contains(host) {
            throw PublicURLRequired()
        }
        PublicBaseURL.configure(publicURL ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)")
        let caches = CacheInvalidation()
        let identity = try IdentitySetup(
            client: client, logger: logger, publicURL: publicURL,
            authURL: "\(publicURL ?? "http://\(host):\(port)")/v3", caches: caches)

        let router = Router(context: CellarRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        let knownRoutes = KnownRoutes()
        router.add(middleware: TroveErrorMiddleware(knownRoutes: knownRoutes))
        router.addHealthRoutes(
            checker: HealthChecker(
                postgres: client, amqpURL: amqpURL,
                bus: {
                    let status = publisher.status
                    return status.connected ? nil : (status.lastError ?? "connecting")
                }, objectStore: try backupStoreCheck(), logger: logger))
        let clusterMetrics = ClusterMetrics(client: client, logger: logger)
        router.addMetricsRoutes(registry: registry, validator: identity.validator, extra: { await clusterMetrics.text() })
        router.addOpenAPIRoute(document: root.appendingPathComponent("openapi/openapi.json"))
        identity.addRoutes(to: router)
        let rpc = RPCClient(url: amqpURL, publisher: publisher)
        let askGuest: GuestQuery = { instanceID, method in
            let answer = try await rpc.call(Topology.guestQueue(instanceID), method: method, timeout: .seconds(10))
            return try JSONEncoder().encode(answer)
        }
        let rateLimits = try RateLimit.parse(ProcessInfo.processInfo.environment["CELLAR_RATE_LIMITS"] ?? "")
        TroveAPI(
            client: client, store: store, charts: charts, validator: identity.validator,
            secrets: try SecretKeyFile.box(stateDirectory: stateDirectory), changes: changes, askGuest: askGuest,
            rateLimiter: RateLimiter(limits: rateLimits), caches: caches, logger: logger
        )
        .register(on: router)
        WebConsole(
            signIn: identity.consoleSignIn, validator: identity.validator,
            assets: root.appendingPathComponent("console"), statecharts: root.appendingPathComponent("statecharts")
        )
        .register(on: router)
        knownRoutes.load(router.routes.map { ($0.method.rawValue, $0.path.description) })

        let (host, port, databaseURL, amqpURL) = (self.host, self.port, self.databaseURL, self.amqpURL)
        let backups = controlPlane?.backupStoreURL.map { "\n  backups     \(URLParts.redacted($0))" } ?? ""
        var app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "cellar"),
            onServerRunning: { _ in
                say(
                    """
                    Cellar is up.
                      Trove API   http://\(host):\(port)/v1.0/<project_id>
                      identity    http://\(host):\(port)/v3   (OS_AUTH_URL)
                      health      http://\(host):\(port)/healthz
                      metrics     http://\(host):\(port)/metrics
                      console     http://\(host):\(port)/console/
                      database    \(URLParts.redacted(databaseURL))
                      broker      \(URLParts.redacted(amqpURL))\(backups)
                    Press Ctrl-C to stop.
                    """)
            },
            logger: logger
        )
        app.addServices(
            client,
            ProjectionService(runner: ProjectionRunner(store: store, projection: StreamCatalogProjection()), migrations: migrations, logger: logger),
            ProjectionService(
                runner: ProjectionRunner(store: store, projection: InstanceProjection(chart: charts.instance)),
                migrations: migrations, logger: logger,
                afterApplying: {
                    caches.invalidate("instances")  // before the long polls look again
                    changes.changed()
                }),
            ProjectionService(runner: ProjectionRunner(store: store, projection: ConfigurationProjection()), migrations: migrations, logger: logger),
            ProjectionService(
                runner: ProjectionRunner(store: store, projection: ClusterProjection(chart: charts.cluster)),
                migrations: migrations, logger: logger, afterApplying: { changes.changed() }),
            ProjectionService(
                runner: ProjectionRunner(store: store, projection: BackupProjection(chart: charts.backup)),
                migrations: migrations, logger: logger, afterApplying: { changes.changed() }),
            RelayService(relay: EventRelay(store: store, publisher: publisher, logger: logger), migrations: migrations),
            RPCReplyService(rpc: rpc),
            CacheInvalidationService(invalidation: caches, client: client, logger: logger)
        )
        var driver: ProcessComputeDriver?
        if let controlPlane {
            let compute = try controlPlane.computeDriver(amqpURL: amqpURL, secrets: try SecretKeyFile.box(stateDirectory: stateDirectory))
            driver = compute
            app.addServices(
                TaskManagerService(
                    taskManager: TaskManager(
                        client: client, store: store, charts: charts, compute: compute, amqpURL: amqpURL,
                        publisher: publisher, secrets: try SecretKeyFile.box(stateDirectory: stateDirectory),
                        brokerAccounts: try controlPlane.brokerAccounts(amqpURL: amqpURL, logger: logger),
                        objectStore: try controlPlane.backupStore(), logger: logger,
                        reviveInterval: .seconds(controlPlane.reviveInterval), addressPool: try controlPlane.validated().addressPool,
                        sagaLease: .milliseconds(Int(controlPlane.sagaLease * 1000)), afterRecording: CrashPoint.hook()), migrations: migrations),
                ConductorService(
                    conductor: Conductor(
                        client: client, store: store, chart: charts.instance, amqpURL: amqpURL,
                        heartbeatExpiry: .seconds(controlPlane.heartbeatExpiry), logger: logger), migrations: migrations)
            )
        }
        app.beforeServerStarts {
            try await migrations.ensureMigrated()
            let catalog = OperatorCatalog(client: client, logger: logger)
            try await catalog.seedDefaults()
            if let choice = DefaultDatastoreSetting(environment: ProcessInfo.processInfo.environment) {
                do { try await catalog.setDefault(datastore: choice.datastore, version: choice.version) } catch let error as CatalogError {
                    logger.critical("CELLAR_DEFAULT_DATASTORE: \(error)")
                    throw error
                }
            }
            do {
                try await DatastoreParameterLoader.load(into: catalog, onlyMissing: true, logger: logger)
            } catch {
                logger.warning(
                    "could not load datastore parameters; configuration groups need them (cellar datastore load-parameters)",
                    metadata: ["error": "\(error)"])
            }
            try await identity.seedAdmin(stateDirectory: stateDirectory)
        }
        // A bounded shutdown that never crashes: services get 20 s to finish after a stop request; the group
        // then waits for their cancellation without a deadline of its own (ServiceGroup's deadline is a
        // fatalError), and the watchdog ends the process 40 s after the request, instances and servers stopped
        // first, if anything still hangs.
        let overdue = shutdownOverdue
        let watchdog = ShutdownWatchdog(
            limit: .seconds(40),
            overdue: { [driver] in
                driver?.stopAll()
                overdue()
            })
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: watchdog)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(20)
        configuration.maximumCancellationDuration = nil
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            logger.error("cellar stopped because a service failed", metadata: ["error": "\(String(reflecting: error))"])
            driver?.stopAll()
            throw error
        }
        // Like a host going down: the instances stop with it; the next start brings them back with their data.
        driver?.stopAll()
    }
}

/// Listening on every address, the API has no one address to put in its links.
struct PublicURLRequired: Error, CustomStringConvertible {
    var description: String {
        "the API listens on every address: set CELLAR_PUBLIC_URL to the URL clients reach it at (links and the service catalog use it)"
    }
}
