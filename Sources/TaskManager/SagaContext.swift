import Bus
import Compute
import EventStore
import Foundation
import Lifecycle
import Logging
import ObjectStore
import PostgresNIO
import ReadModels
import Secrets

/// What the task manager's sagas work with: the log, the compute driver, the guests, the address pool.
struct TaskManagerServices: Sendable {
    let client: PostgresClient
    let store: PostgresEventStore
    let instances: AggregateRepository<Instance>
    let clusters: AggregateRepository<Cluster>
    let backups: AggregateRepository<Backup>
    /// Where backups are kept (nil: no store configured, and backups fail with that reason).
    let objectStore: (any ObjectStore)?
    /// The instance chart (a cluster saga's facts hold an empty instance).
    let instanceChart: Statechart
    let compute: any ComputeDriver
    let rpc: RPCClient
    let publisher: BusPublisher
    let addresses: AddressBook
    let secrets: InstanceSecrets
    let catalog: OperatorCatalog
    /// Makes each guest's own broker user (nil: guests use the control plane's broker user).
    let brokerAccounts: BrokerAccounts?
    /// Wakes sagas waiting for appends to particular streams.
    let appends: AppendNotifications
    /// Which subjects' sagas this task manager runs (several may run at once).
    let leases: SagaLeases
    let logger: Logger

    /// The guest's own broker user exists (before its agent starts, or starts again).
    func ensureBrokerAccount(for instanceID: String) async throws {
        try await brokerAccounts?.ensureGuest(instanceID, password: secrets.guestBrokerPassword(for: instanceID))
    }
}

/// The event that started a saga: its type and payload.
struct SagaTrigger: Sendable {
    var type: String
    var data: Data
}

/// One saga's view: the services plus who started it and on what.
struct SagaContext: Sendable {
    let services: TaskManagerServices
    let sagaID: String
    let start: Saga.Start

    /// Metadata of everything the saga records: the task manager acting for the original request.
    var metadata: EventMetadata {
        EventMetadata(service: "taskmanager", requestID: start.requestId, correlationID: start.requestId, causationID: "saga-\(sagaID)")
    }

    /// The instance as the log says now.
    func instance(_ instanceID: String) async throws -> Instance.State {
        try await services.instances.load(instanceID).state
    }

    /// The event that started the saga, as read from the log (once per runner: it never changes).
    func triggerEvent() async throws -> SagaTrigger? {
        try await services.store.readStream(start.triggerStream, fromVersion: start.triggerVersion, limit: 1).first
            .map { SagaTrigger(type: $0.type, data: $0.data) }
    }

    /// The facts the saga decides from: its instance (with the instance's create request) or its cluster, the
    /// triggering event, and when asked the other replicas of the instance's source.
    func facts(trigger: SagaTrigger?, siblingReplicas: Bool) async throws -> Saga.Facts {
        if let clusterID = start.clusterId {
            let cluster = try await cluster(clusterID)
            return Saga.Facts(
                instance: Instance.State(chart: services.instanceChart), cluster: cluster,
                clusterTrigger: trigger.flatMap { try? Cluster.Event.decode(eventType: $0.type, data: $0.data) })
        }
        let backup = try await backupOfTrigger()
        // A saga about neither an instance nor a cluster (a benchmark's no-op saga) has nothing more to load.
        if start.instanceId.isEmpty { return Saga.Facts(instance: Instance.State(chart: services.instanceChart), backup: backup) }
        let (instance, events) = try await services.instances.load(start.instanceId)
        let spec = events.lazy.compactMap { event -> Instance.Spec? in
            if case .instanceCreateRequested(let spec) = event { spec } else { nil }
        }.first
        let siblings =
            if siblingReplicas, let source = instance.replicaOf {
                try await InstanceReadModel(client: services.client, logger: services.logger).replicas(of: source)
            } else { [String]() }
        return Saga.Facts(
            instance: instance, createSpec: spec,
            trigger: trigger.flatMap { try? Instance.Event.decode(eventType: $0.type, data: $0.data) },
            siblingReplicaIds: siblings, backup: backup)
    }

    /// The backup a backup saga works on (its trigger's stream), folded; nil for other sagas.
    func backupOfTrigger() async throws -> Backup.State? {
        guard start.triggerStream.hasPrefix("backup-") else { return nil }
        return try await services.backups.load(String(start.triggerStream.dropFirst("backup-".count))).state
    }

    /// The cluster as the log says now.
    func cluster(_ clusterID: String) async throws -> Cluster.State {
        try await services.clusters.load(clusterID).state
    }

    /// Records a fact about a cluster (e.g. `recordBecameActive`).
    @discardableResult
    func record(_ command: Cluster.Command, onCluster clusterID: String) async throws -> [RecordedEvent] {
        try await services.clusters.execute(command, on: clusterID, metadata: metadata)
    }

    /// Records a fact about an instance (e.g. `recordComputeAllocated`).
    @discardableResult
    func record(_ command: Instance.Command, on instanceID: String) async throws -> [RecordedEvent] {
        try await services.instances.execute(command, on: instanceID, metadata: metadata)
    }

    /// Removes everything the instance had on the host and the bus: its processes and folder, its address, its
    /// guest queue (whatever calls were still waiting there go with it) and its broker user. Idempotent.
    func releaseServer(_ instanceID: String) async throws {
        try await services.compute.release(instanceID: instanceID)
        try await services.addresses.release(for: instanceID)
        try await services.publisher.deleteQueue(Topology.guestQueue(instanceID))
        try await services.brokerAccounts?.removeGuest(instanceID)
    }

    /// Calls an instance's guest agent, waiting until just before the step's end (or `limit`, when shorter: a
    /// probe of a guest that may be gone).
    func callGuest<Arguments: Encodable>(
        _ instanceID: String, _ method: String, _ arguments: Arguments, limit: Duration? = nil
    ) async throws -> JSONValue {
        try await services.rpc.call(
            Topology.guestQueue(instanceID), method: method, args: try JSONValue(encoding: arguments),
            timeout: StepDeadline.callTimeout(limit: limit))
    }
}
