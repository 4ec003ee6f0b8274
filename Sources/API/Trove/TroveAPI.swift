import APICore
import EventStore
import Foundation
import Hummingbird
import Lifecycle
import Logging
import PostgresNIO
import ReadModels
import Secrets

/// The Trove v1.0 API: its dependencies and route registration. Reads come from read models; writes go
/// through `InstanceCommands` (events), never to read-model tables.
public struct TroveAPI: Sendable {
    let commands: InstanceCommands
    let reads: InstanceReadModel
    /// The same read model with each project's rows held in memory between changes: for GETs only (writes check
    /// against the database).
    let cachedReads: InstanceReadModel
    let clusters: ClusterCommands
    let clusterReads: ClusterReadModel
    let catalog: OperatorCatalog
    let configurations: ConfigurationCommands
    let configurationReads: ConfigurationReadModel
    let backups: BackupCommands
    let backupReads: BackupReadModel
    /// Asks an instance's guest agent (`instance id`, method) and returns its JSON answer; nil without a bus.
    let askGuest: GuestQuery?
    let rateLimiter: RateLimiter
    let store: PostgresEventStore
    let client: PostgresClient
    let validator: any TokenValidator
    let changes: ReadModelChanges
    let timeTravel: TimeTravel
    let logger: Logger

    public init(
        client: PostgresClient, store: PostgresEventStore, charts: StatechartLibrary, validator: any TokenValidator,
        secrets: SecretBox, changes: ReadModelChanges, askGuest: GuestQuery? = nil,
        rateLimiter: RateLimiter = RateLimiter(), caches: CacheInvalidation? = nil, logger: Logger
    ) {
        self.rateLimiter = rateLimiter
        self.configurations = ConfigurationCommands(store: store, logger: logger)
        self.configurationReads = ConfigurationReadModel(client: client, logger: logger)
        self.backups = BackupCommands(store: store, chart: charts.backup, logger: logger)
        self.backupReads = BackupReadModel(client: client, logger: logger)
        self.askGuest = askGuest
        self.client = client
        self.store = store
        self.commands = InstanceCommands(store: store, client: client, chart: charts.instance, secrets: secrets, caches: caches, logger: logger)
        self.reads = InstanceReadModel(client: client, logger: logger)
        self.cachedReads = InstanceReadModel(client: client, logger: logger, cache: caches.map(InstanceCache.init(invalidation:)))
        self.clusters = ClusterCommands(store: store, client: client, chart: charts.cluster, logger: logger)
        self.clusterReads = ClusterReadModel(client: client, logger: logger)
        self.catalog = OperatorCatalog(client: client, logger: logger, cache: caches.map(CatalogCache.init(invalidation:)))
        self.validator = validator
        self.changes = changes
        self.timeTravel = TimeTravel(store: store, client: client, charts: charts, logger: logger)
        self.logger = logger
    }

    /// Registers `/`, `/v1.0/` and every `/v1.0/{tenant}/...` route, all behind the control-character gate (which
    /// comes before token validation: a token is one of the strings it checks).
    public func register(on router: Router<CellarRequestContext>) {
        let gated = router.group().add(middleware: ControlCharacterMiddleware.trove)
        gated.get("/") { request, _ in try JSONResponse.make(Versions(request: request), status: .multipleChoices) }
        gated.get("/v1.0") { request, _ in try JSONResponse.make(VersionEnvelope(version: Versions(request: request).versions[0])) }
        let tenant = gated.group("v1.0/:tenant")
            .add(middleware: TokenAuthMiddleware(validator: validator))
            .add(middleware: RateLimitMiddleware(limiter: rateLimiter))
        registerInstanceRoutes(on: tenant)
        registerDatabaseAndUserRoutes(on: tenant)
        registerCatalogRoutes(on: tenant)
        registerHistoryRoutes(on: tenant)
        registerLimitRoutes(on: tenant)
        registerConfigurationRoutes(on: tenant)
        registerInstanceUpdateRoutes(on: tenant)
        registerClusterRoutes(on: tenant)
        registerClusterRootRoutes(on: tenant)
        registerBackupRoutes(on: tenant)
        registerMetricRoutes(on: tenant)
    }

    /// A `member` or `admin` may change things; a `reader` may only look.
    static func requireWriter(_ caller: AuthContext) throws {
        guard caller.canWrite else { throw TroveError.forbidden("The reader role may only read; this request changes something.") }
    }

    static func requireAdmin(_ caller: AuthContext) throws {
        guard caller.isAdmin else { throw TroveError.forbidden("User does not have admin privileges.") }
    }
}

/// A question to an instance's guest agent: instance id and RPC method in, the guest's JSON answer out.
public typealias GuestQuery = @Sendable (_ instanceID: String, _ method: String) async throws -> Data

/// `GET /`: the API versions.
struct Versions: Encodable {
    struct Version: Encodable {
        var id = "v1.0"
        var status = "CURRENT"
        var updated = "2012-08-01T00:00:00Z"
        var links: [Link]
    }
    var versions: [Version]

    init(request: Request) {
        versions = [Version(links: [Link(href: "\(Link.baseURL(request))/v1.0/", rel: "self")])]
    }
}

struct VersionEnvelope: Encodable { var version: Versions.Version }
