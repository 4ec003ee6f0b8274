import Bus
import Compute
import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO
import ReadModels
import Secrets

/// What the task manager's sagas work with: the log, the compute driver, the guests, the address pool.
struct TaskManagerServices: Sendable {
    let client: PostgresClient
    let store: PostgresEventStore
    let instances: AggregateRepository<Instance>
    let compute: any ComputeDriver
    let rpc: RPCClient
    let publisher: BusPublisher
    let addresses: AddressBook
    let secrets: InstanceSecrets
    let catalog: OperatorCatalog
    /// Makes each guest's own broker user (nil: guests use the control plane's broker user).
    let brokerAccounts: BrokerAccounts?
    let logger: Logger

    /// The guest's own broker user exists (before its agent starts, or starts again).
    func ensureBrokerAccount(for instanceID: String) async throws {
        try await brokerAccounts?.ensureGuest(instanceID, password: secrets.guestBrokerPassword(for: instanceID))
    }
}

/// One saga's view: the services plus who started it and for which instance.
struct SagaContext: Sendable {
    let services: TaskManagerServices
    let sagaID: String
    let start: Saga.Start

    var instanceID: String { start.instanceId }
    var guestQueue: String { Topology.guestQueue(start.instanceId) }

    /// Metadata of everything the saga records: the task manager acting for the original request.
    var metadata: EventMetadata {
        EventMetadata(service: "taskmanager", requestID: start.requestId, correlationID: start.requestId, causationID: "saga-\(sagaID)")
    }

    /// The instance as the log says now.
    func instance() async throws -> Instance.State {
        try await services.instances.load(instanceID).state
    }

    /// Records a fact about the instance (e.g. `recordComputeAllocated`).
    @discardableResult
    func record(_ command: Instance.Command) async throws -> [RecordedEvent] {
        try await services.instances.execute(command, on: instanceID, metadata: metadata)
    }

    /// Removes everything the instance had on the host and the bus: its processes and folder, its address, its
    /// guest queue (whatever calls were still waiting there go with it) and its broker user. Idempotent.
    func releaseServer() async throws {
        try await services.compute.release(instanceID: instanceID)
        try await services.addresses.release(for: instanceID)
        try await services.publisher.deleteQueue(guestQueue)
        try await services.brokerAccounts?.removeGuest(instanceID)
    }

    /// Calls the instance's guest agent.
    func callGuest<Arguments: Encodable>(_ method: String, _ arguments: Arguments, timeout: Duration) async throws -> JSONValue {
        try await services.rpc.call(guestQueue, method: method, args: try JSONValue(encoding: arguments), timeout: timeout)
    }
}
