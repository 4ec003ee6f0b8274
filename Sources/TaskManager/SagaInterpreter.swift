import Bus
import Compute
import EventStore
import Foundation
import GuestProtocol
import Lifecycle

/// A step found that its work is no longer wanted (e.g. the instance is being deleted): the saga ends there.
struct SagaCancellation: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A failure that retrying cannot fix (a bad name reaching the guest): the step ends at once.
struct PermanentFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Performs the sagas' typed actions: the one place where a saga touches compute, the guests, the log and the
/// secrets. Every action is idempotent, because a step that may have run before a crash runs again.
struct SagaInterpreter: Sendable {
    let context: SagaContext

    var services: TaskManagerServices { context.services }

    /// Performs `action`; what it produced for the saga's later decisions, if anything.
    func perform(_ action: Saga.Action) async throws -> Saga.StepResult? {
        var result: Saga.StepResult?
        switch action {
        case .allocateCompute(let instanceID, let datastore):
            let server = try await allocate(instanceID, datastore: datastore)
            result = .server(serverId: server.serverID, address: server.address)
        case .releaseCompute(let instanceID):
            try await context.releaseServer(instanceID)
        case .callGuest(let instanceID, let call):
            try await GuestCalls(context: context, instanceID: instanceID).perform(call)
        case .record(let command, let instanceID):
            try await context.record(command, on: instanceID)
        case .forgetSecrets(let instanceID, let scope):
            let stream = "instance-\(instanceID)"
            switch scope {
            case .all: try await services.secrets.purge(stream: stream)
            case .userPasswords: try await services.secrets.purgeUserPasswords(stream: stream)
            case .named(let names): try await services.secrets.purge(stream: stream, names: names)
            }
        case .forgetHeartbeat(let instanceID):
            try await services.client.query("DELETE FROM guest_heartbeats WHERE instance_id = \(instanceID)", logger: services.logger)
        case .leaseAddresses(let instanceIDs, let datastore):
            let port = try descriptor(of: datastore).standardPort
            for instanceID in instanceIDs { _ = try await services.addresses.lease(for: instanceID, port: port) }
        case .createInstance(let request):
            guard try await context.instance(request.id).version == 0 else { return nil }  // created by an earlier attempt
            try await context.record(.create(request), on: request.id)
        case .deleteInstance(let instanceID):
            let instance = try await context.instance(instanceID)
            guard instance.version > 0, Saga.unwanted(instance) == nil else { return nil }
            try await context.record(.delete, on: instanceID)
        case .restartInstance(let instanceID):
            guard try await context.instance(instanceID).phase != .rebooting else { return nil }
            try await context.record(.restart, on: instanceID)
        case .recordCluster(let command, let clusterID):
            try await context.record(command, onCluster: clusterID)
        case .configureBalancer(let clusterID, let datastore, let algorithm, let memberIDs):
            try await configureBalancer(clusterID, datastore: datastore, algorithm: algorithm, memberIDs: memberIDs)
        case .removeBalancer(let clusterID):
            try await services.compute.removeBalancer(clusterID: clusterID)
            try await services.addresses.release(for: "cluster-\(clusterID)")
        case .releaseAddresses(let instanceIDs):
            for instanceID in instanceIDs { try await services.addresses.release(for: instanceID) }
        case .fence(let instanceID):
            result = .fenced(how: try await FailoverActions(context: context).fence(instanceID))
        case .electPrimary(let clusterID):
            try await FailoverActions(context: context).elect(clusterID)
        case .recordBackup(let command, let backupID):
            try await BackupActions(context: context).record(command, on: backupID)
        case .storeBackup(let instanceID, let backupID):
            try await BackupActions(context: context).store(instanceID: instanceID, backupID: backupID)
        case .removeBackupObjects(let backupID):
            try await BackupActions(context: context).removeObjects(of: backupID)
        case .cancel(let reason):
            throw SagaCancellation(reason)
        case .failPermanently(let reason):
            throw PermanentFailure(reason)
        }
        return result
    }

    private func descriptor(of datastore: Datastore) throws -> any DatastoreDescriptor {
        guard let rules = Datastores.descriptor(of: datastore) else {
            throw PermanentFailure("\(datastore.type) \(datastore.version) is not a datastore this Cellar has")
        }
        return rules
    }

    /// The balancer on the cluster's own address, sending to the members' addresses (each checked by its guest's
    /// health port); recorded on the cluster when anything changed.
    private func configureBalancer(
        _ clusterID: String, datastore: Datastore, algorithm: Cluster.BalancerAlgorithm,
        memberIDs: [String]
    ) async throws {
        let rules = try descriptor(of: datastore)
        let port = rules.standardPort
        let address = try await services.addresses.lease(for: "cluster-\(clusterID)", port: port)
        var backends: [BalancerRequest.Backend] = []
        for memberID in memberIDs {
            guard let memberAddress = try await services.addresses.leased(by: memberID) else {
                throw PermanentFailure("member \(memberID) of cluster \(clusterID) has no address")
            }
            backends.append(.init(id: memberID, address: memberAddress, port: port, checkPort: BalancerCheck.port))
        }
        try await services.compute.applyBalancer(
            BalancerRequest(
                clusterID: clusterID, address: address, port: port, algorithm: algorithm.rawValue, backends: backends,
                readOnlyPort: rules.clusterStrategy == .activePassive ? port + 1 : nil))
        try await context.record(
            .recordBalancer(Cluster.Balancer(address: address, algorithm: algorithm, memberIds: memberIDs)),
            onCluster: clusterID)
    }

    /// Leases the address, makes the guest's queue and broker user, and starts the server (or finds the one an
    /// earlier attempt started).
    private func allocate(_ instanceID: String, datastore: Datastore) async throws -> Server {
        let rules = try descriptor(of: datastore)
        let address = try await services.addresses.lease(for: instanceID, port: rules.standardPort)
        try await Topology.declareGuestQueue(instanceID, with: services.publisher)
        try await services.ensureBrokerAccount(for: instanceID)
        let clusterID = try await context.instance(instanceID).cluster?.clusterId
        let server = try await services.compute.allocate(
            ServerRequest(
                instanceID: instanceID, address: address, port: rules.standardPort,
                datastore: rules.manager, datastoreVersion: datastore.version, isolationGroup: clusterID))
        return server
    }
}
