import Bus
import Compute
import Conductor
import EventStore
import Foundation
import GuestAgent
import Lifecycle
import Logging
import ObjectStore
import PostgresNIO
import Secrets
import ServiceLifecycle
import TaskManager

#if canImport(Glibc)
import Glibc
#endif

/// Settings of the task manager and conductor: where instance folders live, how guests are started, how soon
/// a silent guest counts as unhealthy.
public struct ControlPlaneSettings: Sendable {
    /// `<state>/instances` by default (`CELLAR_INSTANCES_DIR`); only the task manager needs it.
    public var instancesDirectory: URL?
    /// Seconds between guest heartbeats (`CELLAR_GUEST_HEARTBEAT_INTERVAL`, default 10).
    public var heartbeatInterval: Double
    /// A guest not heard from for this long is unhealthy (`CELLAR_GUEST_HEARTBEAT_EXPIRY`, default 90 s, Trove's).
    public var heartbeatExpiry: Double
    /// How often the task manager starts again servers whose guest agent died (`CELLAR_COMPUTE_REVIVE_INTERVAL`, 30 s).
    public var reviveInterval: Double
    /// How long a task manager's hold on a subject's sagas lasts unrenewed (`CELLAR_SAGA_LEASE_SECONDS`, 5 s): after a
    /// task manager dies, the others take its sagas over within this and half of it again.
    public var sagaLease: Double = 5
    /// The first two octets of instance addresses (`CELLAR_ADDRESS_POOL`, default `127.42`).
    public var addressPool = "127.42"
    /// The unprivileged OS user of the control plane's own PostgreSQL and of the host's prepared data directories
    /// (`CELLAR_DB_OS_USER`, default `cellar-db`, made by scripts/setup); no instance runs as it.
    public var databaseOSUser: String
    /// The broker's management API (`CELLAR_AMQP_MANAGEMENT_URL`; `cellar up` sets its private broker's): each guest
    /// then gets a broker user of its own. Without it guests log in as the control plane does.
    public var brokerManagementURL: String?
    /// Where backups are kept (`CELLAR_BACKUP_STORE_URL`, a `StoreLocation` URL; `cellar up` sets its private
    /// Swift's when none is configured).
    public var backupStoreURL: String?

    public init(
        instancesDirectory: URL?, heartbeatInterval: Double, heartbeatExpiry: Double, reviveInterval: Double,
        addressPool: String = "127.42", databaseOSUser: String, brokerManagementURL: String? = nil
    ) {
        self.instancesDirectory = instancesDirectory
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatExpiry = heartbeatExpiry
        self.reviveInterval = reviveInterval
        self.addressPool = addressPool
        self.databaseOSUser = databaseOSUser
        self.brokerManagementURL = brokerManagementURL
    }

    public static func fromEnvironment(
        stateDirectory: URL?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ControlPlaneSettings {
        func number(_ name: String, _ fallback: Double) -> Double { environment[name].flatMap(Double.init) ?? fallback }
        var instances = stateDirectory?.appendingPathComponent("instances", isDirectory: true)
        if let configured = environment["CELLAR_INSTANCES_DIR"], !configured.isEmpty {
            instances = URL(fileURLWithPath: configured, isDirectory: true)
        }
        var settings = ControlPlaneSettings(
            instancesDirectory: instances, heartbeatInterval: number("CELLAR_GUEST_HEARTBEAT_INTERVAL", 10),
            heartbeatExpiry: number("CELLAR_GUEST_HEARTBEAT_EXPIRY", 90),
            reviveInterval: number("CELLAR_COMPUTE_REVIVE_INTERVAL", 30),
            databaseOSUser: environment["CELLAR_DB_OS_USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "cellar-db")
        if let pool = environment["CELLAR_ADDRESS_POOL"], !pool.isEmpty { settings.addressPool = pool }
        if let lease = environment["CELLAR_SAGA_LEASE_SECONDS"].flatMap(Double.init), lease >= 1 { settings.sagaLease = lease }
        if let management = environment["CELLAR_AMQP_MANAGEMENT_URL"], !management.isEmpty { settings.brokerManagementURL = management }
        if let store = environment["CELLAR_BACKUP_STORE_URL"], !store.isEmpty { settings.backupStoreURL = store }
        return settings
    }

    /// The backup store named by `backupStoreURL` (nil: none configured).
    public func backupStore() throws -> (any ObjectStore)? {
        try backupStoreURL.map { SwiftObjectStore(location: try StoreLocation(url: $0)) }
    }

    /// Refuses a pool that is not two octets of 127.0.0.0/8 (`127.N`).
    public func validated() throws -> ControlPlaneSettings {
        let octets = addressPool.split(separator: ".")
        guard octets.count == 2, octets[0] == "127", let second = Int(octets[1]), (0...255).contains(second) else {
            throw InvalidAddressPool(pool: addressPool)
        }
        return self
    }

    public struct InvalidAddressPool: Error, CustomStringConvertible {
        var pool: String
        public var description: String { "CELLAR_ADDRESS_POOL must be the first two octets of a loopback range, like 127.42, not '\(pool)'" }
    }

    public struct MissingInstancesDirectory: Error, CustomStringConvertible {
        public var description: String { "set CELLAR_INSTANCES_DIR (where instance folders live) or use --state-dir" }
    }

    /// The process driver; each guest it starts gets its own key and (with a management URL) its own broker
    /// user, both derived from `secrets`.
    public func computeDriver(amqpURL: String, secrets: SecretBox) throws -> ProcessComputeDriver {
        guard let instancesDirectory else { throw MissingInstancesDirectory() }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let ownBrokerUsers = brokerManagementURL != nil
        return ProcessComputeDriver(
            root: instancesDirectory,
            guest: .init(
                executable: executable,
                brokerURL: { instanceID in
                    guard ownBrokerUsers else { return amqpURL }
                    return try BrokerAccounts.guestURL(
                        brokerURL: amqpURL, instanceID: instanceID, password: secrets.guestBrokerPassword(for: instanceID))
                },
                heartbeatInterval: heartbeatInterval, guestKey: { secrets.guestKey(for: $0) },
                prepareDataDirectory: { [databaseOSUser] datastore, folder in
                    try DatastoreManagers.prepareDataDirectory(
                        forManager: datastore, in: folder, osUser: ProcessComputeDriver.isolatesInstances ? databaseOSUser : nil)
                }))
    }

    /// The management client that makes guests' broker users; nil (with a warning) when none is configured.
    public func brokerAccounts(amqpURL: String, logger: Logger) throws -> BrokerAccounts? {
        guard let brokerManagementURL else {
            logger.warning("guests log in to the broker as the control plane does; set CELLAR_AMQP_MANAGEMENT_URL to give each its own user")
            return nil
        }
        return try BrokerAccounts(managementURL: brokerManagementURL, virtualHost: try AMQPEndpoint(url: amqpURL).virtualHost)
    }
}

/// The task manager as a service of the group.
public struct TaskManagerService: Service {
    public let taskManager: TaskManager
    public let migrations: MigrationGate

    public init(taskManager: TaskManager, migrations: MigrationGate) {
        self.taskManager = taskManager
        self.migrations = migrations
    }

    public func run() async throws {
        try await migrations.ensureMigrated()
        try await runUntilGracefulShutdown { try await taskManager.run() }
    }
}

/// The conductor as a service of the group.
public struct ConductorService: Service {
    public let conductor: Conductor
    public let migrations: MigrationGate

    public init(conductor: Conductor, migrations: MigrationGate) {
        self.conductor = conductor
        self.migrations = migrations
    }

    public func run() async throws {
        try await migrations.ensureMigrated()
        try await runUntilGracefulShutdown { try await conductor.run() }
    }
}

/// `CELLAR_TASKMANAGER_CRASH_AT=[<Saga>/]<step>:<EventType>[+<milliseconds>]`: the task manager kills itself
/// (SIGKILL, no clean-up) right after recording that event (of that saga only, when named), or that long after
/// it, e.g. `allocateCompute:SagaStepSucceeded`, `CreateCluster/markActive:SagaStepStarted` or
/// `prepareDatastore:SagaStepStarted+300` (while the guest is preparing). The crash tests use it to stop the
/// process at an exact point; unset, it does nothing.
public enum CrashPoint {
    public static func hook(environment: [String: String] = ProcessInfo.processInfo.environment) -> @Sendable (Saga.Kind, Saga.Event) -> Void {
        guard let setting = environment["CELLAR_TASKMANAGER_CRASH_AT"], !setting.isEmpty else { return { _, _ in } }
        let parts = setting.split(separator: "+", maxSplits: 1)
        let point = String(parts[0])
        let delay = parts.count > 1 ? (Double(parts[1]) ?? 0) / 1000 : 0
        return { saga, event in
            let step: String? =
                switch event {
                case .stepStarted(let attempt), .stepSucceeded(let attempt): attempt.step
                default: nil
                }
            guard let step,
                [
                    "\(step):\(event.eventType)", "\(saga.rawValue)/\(step):\(event.eventType)",
                ].contains(point)
            else { return }
            FileHandle.standardError.write(Data("taskmanager: crashing at \(setting) (CELLAR_TASKMANAGER_CRASH_AT)\n".utf8))
            if delay == 0 { kill(getpid(), SIGKILL) }
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: delay)
                kill(getpid(), SIGKILL)
            }
        }
    }
}

/// Runs `body` until a stop request cancels it. What it throws once the stop began (a `CancellationError` from a
/// sleep, a closed connection) is the expected end of a stop, not a failure of the service: the process then
/// exits 0 instead of reporting a failed service.
public func runUntilGracefulShutdown(_ body: @escaping @Sendable () async throws -> Void) async throws {
    do {
        try await cancelWhenGracefulShutdown(body)
    } catch  where Task.isShuttingDownGracefully {
        return
    }
}
