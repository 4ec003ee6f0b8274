import Foundation

/// Where instances run. The `process` driver runs each instance's guest agent as a local process; a driver for
/// an existing cluster manager (Kubernetes, Nomad, OpenStack Nova) implements the same four calls.
///
/// Every call is idempotent: the task manager may repeat any of them after a crash.
public protocol ComputeDriver: Sendable {
    /// Starts the server for `request`, or returns the one already running for that instance.
    func allocate(_ request: ServerRequest) async throws -> Server
    /// Stops the server and removes everything it had; nothing is left afterwards. Absent servers are fine.
    func release(instanceID: String) async throws
    /// Restarts the server's guest agent (a reboot of the "VM"); the datastore's data is kept.
    func reboot(instanceID: String) async throws
    /// Fences an instance: every process of it is killed at once (no grace, like pulling a VM's power), and its
    /// folder stays; `reboot` starts it again.
    func powerOff(instanceID: String) async throws
    /// What the driver sees of the instance's server now.
    func status(instanceID: String) async -> ServerStatus
    /// Who runs the instance's guest agent now: a value that changes whenever the agent starts again (nil: it
    /// does not run). A long call to the guest watches it, to fail at once when the agent died under it.
    func guestIncarnation(instanceID: String) async -> String?
    /// Starts a cluster's load balancer, or reloads it when its configuration changed (established
    /// connections stay).
    func applyBalancer(_ request: BalancerRequest) async throws
    /// Stops a cluster's load balancer and removes it (idempotent).
    func removeBalancer(clusterID: String) async throws
    /// Whether a cluster's load balancer runs.
    func balancerStatus(clusterID: String) async -> ServerStatus
    /// Starts again a configured balancer that is not running.
    func reviveBalancer(clusterID: String) async throws
    /// The members as the balancer sees them now.
    func balancerBackends(clusterID: String) async throws -> [BalancerBackendState]
    /// Whether no program on this host listens on `address:port` already (an address the lease table thinks free
    /// may still be taken by something else).
    func isFree(address: String, port: Int) -> Bool
}

/// What an instance's server needs.
public struct ServerRequest: Sendable, Equatable {
    /// The instance id.
    public var instanceID: String
    /// The instance's own address (one of 127.0.0.0/8 for the process driver).
    public var address: String
    /// The port the datastore listens on at that address.
    public var port: Int
    /// The datastore version's manager (`postgresql`): which manager the guest runs.
    public var datastore: String
    /// e.g. `15`.
    public var datastoreVersion: String
    /// Who shares the instance's isolation (its OS user, on the process driver): its cluster's id, else its own.
    public var isolationGroup: String

    /// Creates a request.
    public init(instanceID: String, address: String, port: Int, datastore: String, datastoreVersion: String, isolationGroup: String? = nil) {
        self.instanceID = instanceID
        self.address = address
        self.port = port
        self.datastore = datastore
        self.datastoreVersion = datastoreVersion
        self.isolationGroup = isolationGroup ?? instanceID
    }
}

/// A server the driver runs.
public struct Server: Codable, Sendable, Equatable {
    /// The driver's id for it.
    public var serverID: String
    /// The instance's address.
    public var address: String
    /// The datastore's port.
    public var port: Int

    /// Creates a server description.
    public init(serverID: String, address: String, port: Int) {
        self.serverID = serverID
        self.address = address
        self.port = port
    }
}

/// A server's state as the driver sees it (Nova's ACTIVE / SHUTOFF / 404).
public enum ServerStatus: String, Sendable, Equatable {
    /// Its guest agent runs.
    case running
    /// It exists but its guest agent does not run.
    case stopped
    /// The driver knows nothing of it.
    case absent
}

/// A compute driver could not do what was asked.
public struct ComputeError: Error, CustomStringConvertible, Equatable {
    /// For people.
    public var description: String
    /// Creates the error.
    public init(_ description: String) { self.description = description }
}
