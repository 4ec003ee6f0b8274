import Bus
import Compute
import EventStore
import Foundation
import GuestProtocol
import Lifecycle

/// `CreateInstance`: lease an address and start the server, wait for the guest's first heartbeat, prepare the
/// datastore with the requested databases and users, then mark the instance ACTIVE. A failure past the retries
/// releases the server and its address and shows the instance ERROR with the reason.
struct CreateInstanceSaga: SagaSteps {
    func run(step: String, in context: SagaContext) async throws {
        let (instance, events) = try await context.services.instances.load(context.instanceID)
        try Self.cancelIfUnwanted(instance)
        switch step {
        case "allocateCompute": try await allocate(instance, in: context)
        case "awaitGuestRegistration": try await awaitRegistration(in: context)
        case "prepareDatastore": try await prepare(instance, events: events, in: context)
        case "markActive":
            try await context.services.secrets.purge(stream: "instance-\(context.instanceID)")
            if instance.leaf != "active" { try await context.record(.recordBecameActive) }
        default: throw PermanentFailure("CreateInstance has no step \(step)")
        }
    }

    func compensate(_ compensation: String, in context: SagaContext) async throws {
        guard compensation == "releaseCompute" else { throw PermanentFailure("CreateInstance has no compensation \(compensation)") }
        try await context.releaseServer()
    }

    func failed(reason: String, in context: SagaContext) async throws {
        let instance = try await context.instance()
        guard instance.status == "BUILD", instance.leaf != "deleting" else { return }  // a delete took over
        try await context.record(.recordFailure(reason: reason))
    }

    /// A build whose instance is being deleted (or is gone) stops: the delete saga cleans up.
    static func cancelIfUnwanted(_ instance: Instance.State) throws {
        if instance.leaf == "deleting" || instance.leaf == "deleted" || instance.version == 0 {
            throw SagaCancellation("instance \(instance.id) is being deleted; the build stops here")
        }
    }

    private func allocate(_ instance: Instance.State, in context: SagaContext) async throws {
        let services = context.services
        guard let datastore = instance.datastore, let rules = Datastores.descriptor(of: datastore) else {
            throw PermanentFailure("instance \(context.instanceID) names no datastore this Cellar has")
        }
        let address = try await services.addresses.lease(for: context.instanceID, port: rules.standardPort)
        try await Topology.declareGuestQueue(context.instanceID, with: services.publisher)
        try await services.ensureBrokerAccount(for: context.instanceID)
        let server = try await services.compute.allocate(ServerRequest(
            instanceID: context.instanceID, address: address, port: rules.standardPort,
            datastore: rules.manager, datastoreVersion: datastore.version))
        guard instance.serverId == nil else { return }  // recorded by an earlier attempt
        do {
            try await context.record(.recordComputeAllocated(serverId: server.serverID, address: server.address))
        } catch let rejection as Rejection {
            // Deleted while the server was starting: nothing may stay behind.
            try await context.releaseServer()
            throw SagaCancellation("the server was not recorded: \(rejection)")
        }
    }

    private func awaitRegistration(in context: SagaContext) async throws {
        while true {
            let instance = try await context.instance()
            try Self.cancelIfUnwanted(instance)
            if instance.guestRegistered { return }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    private func prepare(_ instance: Instance.State, events: [Instance.Event], in context: SagaContext) async throws {
        guard instance.leaf == "preparing" else { return }  // prepared before a crash: nothing to do
        guard case .instanceCreateRequested(let spec)? = events.first(where: {
            if case .instanceCreateRequested = $0 { true } else { false }
        }) else { throw PermanentFailure("instance \(context.instanceID) has no create request") }
        let passwords = try await context.services.secrets.userPasswords(stream: "instance-\(context.instanceID)")
        let guestBox = try context.services.secrets.guestBox(for: context.instanceID)
        let flavor = try await context.services.catalog.flavor(spec.flavorId)
        let request = PrepareRequest(
            databases: spec.databases.map { GuestDatabase(name: $0.name, characterSet: $0.characterSet, collate: $0.collate) },
            users: try spec.users.map {
                try GuestUser(name: $0.name, host: $0.host, password: passwords[$0.name], databases: $0.databases).sealed(with: guestBox)
            },
            memoryMB: flavor?.ramMB ?? 512, volumeSizeGB: instance.volumeSize, overrides: instance.configurationValues)
        _ = try await context.callGuest(GuestMethod.prepare.rawValue, request, timeout: .seconds(170))
    }
}
