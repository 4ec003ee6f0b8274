import Bus
import Compute
import Foundation
import GuestProtocol
import Lifecycle

/// `DeleteInstance`: ask the guest to stop the datastore (best effort), power off and remove the server and its
/// data, free the address, then record the deletion (GET answers 404 from then on).
struct DeleteInstanceSaga: SagaSteps {
    func run(step: String, in context: SagaContext) async throws {
        let services = context.services
        switch step {
        case "stopDatastore":
            guard await services.compute.status(instanceID: context.instanceID) == .running else { return }
            _ = try await context.callGuest(GuestMethod.stop.rawValue, [String: String](), timeout: .seconds(25))
        case "releaseCompute":
            try await context.releaseServer()
        case "markDeleted":
            try await services.secrets.purge(stream: "instance-\(context.instanceID)")
            try await services.client.query("DELETE FROM guest_heartbeats WHERE instance_id = \(context.instanceID)", logger: services.logger)
            let instance = try await context.instance()
            if instance.leaf == "deleting" { try await context.record(.recordDeleted) }
        default:
            throw PermanentFailure("DeleteInstance has no step \(step)")
        }
    }

    func compensate(_ compensation: String, in context: SagaContext) async throws {}

    func failed(reason: String, in context: SagaContext) async throws {
        let instance = try await context.instance()
        if instance.leaf == "deleting" { try await context.record(.recordFailure(reason: reason)) }
    }
}

/// `RestartInstance`, `ResizeFlavor` and `ResizeVolume`: one guest call, then the fact on the instance.
/// A failure past the retries shows the instance ERROR with the reason (there is nothing to undo).
struct GuestOperationSaga: SagaSteps {
    func run(step: String, in context: SagaContext) async throws {
        let instance = try await context.instance()
        switch step {
        case "restartDatastore":
            _ = try await context.callGuest(GuestMethod.restart.rawValue, RestartRequest(), timeout: .seconds(110))
        case "applyFlavor":
            let flavorID = instance.pendingFlavorId ?? instance.flavorId
            guard let flavor = try await context.services.catalog.flavor(flavorID) else {
                throw PermanentFailure("flavor \(flavorID) no longer exists")
            }
            _ = try await context.callGuest(GuestMethod.restart.rawValue, RestartRequest(memoryMB: flavor.ramMB), timeout: .seconds(110))
        case "resizeVolume":
            let size = instance.pendingVolumeSize ?? instance.volumeSize
            _ = try await context.callGuest(GuestMethod.resizeVolume.rawValue, ResizeVolumeRequest(sizeGB: size), timeout: .seconds(50))
        case "markRestarted":
            if instance.leaf == "rebooting" { try await context.record(.recordRestarted) }
        case "markFlavorResized":
            if instance.leaf == "resizingFlavor" { try await context.record(.recordFlavorResized) }
        case "markVolumeResized":
            if instance.leaf == "resizingVolume" { try await context.record(.recordVolumeResized) }
        default:
            throw PermanentFailure("\(context.start.saga) has no step \(step)")
        }
    }

    func compensate(_ compensation: String, in context: SagaContext) async throws {}

    func failed(reason: String, in context: SagaContext) async throws {
        let instance = try await context.instance()
        if ["rebooting", "resizingFlavor", "resizingVolume"].contains(instance.leaf) {
            try await context.record(.recordFailure(reason: reason))
        }
    }
}
