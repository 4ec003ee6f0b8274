import Foundation

extension Saga {
    /// `InstanceCreateRequested` (and `BuildRetryRequested`): start a server, record it, guest registration, a
    /// running peer (a cluster member joining its group), prepare, ACTIVE. A failure past the retries releases the server and shows the instance ERROR with the reason.
    public enum CreateInstance: SagaProgram {
        public enum Step: String, CaseIterable, Sendable {
            case allocateCompute, recordCompute, awaitGuestRegistration, awaitRunningPeer, prepareDatastore, markActive
        }
        public enum Compensation: String, CaseIterable, Sendable { case releaseCompute }

        public static let kind = Kind.createInstance

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .allocateCompute: .init(timeout: .seconds(60), retry: .init(maxAttempts: 3), compensation: .releaseCompute)
            case .recordCompute: .init(timeout: .seconds(30), retry: .init(maxAttempts: 3))
            case .awaitGuestRegistration: .init(timeout: .seconds(120), retry: .once)
            case .awaitRunningPeer: .init(timeout: .seconds(600), retry: .once)
            case .prepareDatastore: .init(timeout: .seconds(180), retry: .init(maxAttempts: 3, firstDelay: .seconds(2)))
            case .markActive: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            let instance = facts.instance
            // Deleted meanwhile: the build stops; the delete's own saga removes what it started (a server
            // included that an attempt started but did not record: compute is released by instance).
            if let reason = unwanted(instance) { return [.cancel(reason: reason)] }
            switch step {
            case .allocateCompute:
                guard instance.serverId == nil else { return [] }  // recorded already (by a build before this one)
                guard let datastore = instance.datastore else { return [.failPermanently(reason: "instance \(instance.id) names no datastore")] }
                return [.allocateCompute(instanceId: instance.id, datastore: datastore)]
            case .recordCompute:
                guard instance.serverId == nil else { return [] }  // recorded before a crash
                // Refused (the instance was deleted meanwhile): the attempt fails, and the next decision above
                // cancels the build.
                guard case .server(let serverId, let address)? = facts.result(of: Step.allocateCompute) else {
                    return [.failPermanently(reason: "no server was started for instance \(instance.id)")]
                }
                return [.record(.recordComputeAllocated(serverId: serverId, address: address), instanceId: instance.id)]
            case .awaitGuestRegistration:
                return .await(.instance(instanceId: instance.id, .guestRegistered))
            case .awaitRunningPeer:
                // A cluster member other than the seed joins a running member: it waits for one first.
                guard let membership = facts.createSpec?.cluster, !membership.seed, instance.phase == .preparing else { return [] }
                return .await(.instances(instanceIds: membership.peers.filter { $0 != instance.id }, .anyActive, clusterId: membership.clusterId))
            case .prepareDatastore:
                guard instance.phase == .preparing else { return [] }  // prepared before a crash: nothing to do
                guard let spec = facts.createSpec else { return [.failPermanently(reason: "instance \(instance.id) has no create request")] }
                let prepare = Action.callGuest(
                    instanceId: instance.id,
                    .prepare(
                        spec, volumeSizeGB: instance.volumeSize,
                        configurationValues: instance.configurationValues))
                // A replica: its source serves it first (the replication account, its address allowed), then it
                // copies the source.
                if let source = spec.replicaOf { return [.callGuest(instanceId: source, .serveReplicas(replicaIds: [instance.id])), prepare] }
                return [prepare]
            case .markActive:
                return .act(
                    [.forgetSecrets(instanceId: instance.id, .all)]
                        + (instance.phase == .active ? [] : [.record(.recordBecameActive, instanceId: instance.id)]))
            }
        }

        public static func actions(for compensation: Compensation, _ facts: Facts) -> [Action] {
            switch compensation {
            case .releaseCompute: [.releaseCompute(instanceId: facts.instance.id)]
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            let instance = facts.instance
            guard instance.status == "BUILD", instance.phase != .deleting else { return [] }  // a delete took over
            return [.record(.recordFailure(reason: reason), instanceId: instance.id)]
        }
    }

    /// `DeleteRequested`: stop the datastore (best effort), release compute, drop a replica's slot on its source
    /// (best effort: the source may be gone), record the deletion.
    public enum DeleteInstance: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case stopDatastore, releaseCompute, dropReplicationSlot, markDeleted }

        public static let kind = Kind.deleteInstance

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .stopDatastore: .init(timeout: .seconds(30), retry: .once, bestEffort: true)
            case .releaseCompute: .init(timeout: .seconds(60), retry: .init(maxAttempts: 5))
            case .dropReplicationSlot: .init(timeout: .seconds(30), retry: .once, bestEffort: true)
            case .markDeleted: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            let id = facts.instance.id
            switch step {
            case .stopDatastore: return [.callGuest(instanceId: id, .stopDatastore)]
            case .releaseCompute: return [.releaseCompute(instanceId: id)]
            case .dropReplicationSlot:
                guard let source = facts.instance.replicaOf else { return [] }
                return [.callGuest(instanceId: source, .dropReplicationSlot(replicaId: id))]
            case .markDeleted:
                return .act(
                    [.forgetSecrets(instanceId: id, .all), .forgetHeartbeat(instanceId: id)]
                        + (facts.instance.phase == .deleting ? [.record(.recordDeleted, instanceId: id)] : []))
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            facts.instance.phase == .deleting ? [.record(.recordFailure(reason: reason), instanceId: facts.instance.id)] : []
        }
    }

    /// `RestartRequested`: restart the datastore, back to ACTIVE.
    public enum RestartInstance: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case restartDatastore, markRestarted }

        public static let kind = Kind.restartInstance

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .restartDatastore: .init(timeout: .seconds(120), retry: .init(maxAttempts: 2))
            case .markRestarted: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            let instance = facts.instance
            switch step {
            case .restartDatastore: return [.callGuest(instanceId: instance.id, .restart(flavorId: nil))]
            case .markRestarted: return instance.phase == .rebooting ? [.record(.recordRestarted, instanceId: instance.id)] : []
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            facts.instance.phase == .rebooting ? [.record(.recordFailure(reason: reason), instanceId: facts.instance.id)] : []
        }
    }

    /// `FlavorResizeRequested`: restart with the new flavor's memory settings.
    public enum ResizeFlavor: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case applyFlavor, markFlavorResized }

        public static let kind = Kind.resizeFlavor

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .applyFlavor: .init(timeout: .seconds(120), retry: .init(maxAttempts: 2))
            case .markFlavorResized: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            let instance = facts.instance
            switch step {
            case .applyFlavor: return [.callGuest(instanceId: instance.id, .restart(flavorId: instance.pendingFlavorId ?? instance.flavorId))]
            case .markFlavorResized: return instance.phase == .resizingFlavor ? [.record(.recordFlavorResized, instanceId: instance.id)] : []
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            facts.instance.phase == .resizingFlavor ? [.record(.recordFailure(reason: reason), instanceId: facts.instance.id)] : []
        }
    }

    /// `VolumeResizeRequested`: the guest enforces the new size on the data directory.
    public enum ResizeVolume: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case resizeVolume, markVolumeResized }

        public static let kind = Kind.resizeVolume

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .resizeVolume: .init(timeout: .seconds(60), retry: .init(maxAttempts: 2))
            case .markVolumeResized: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            let instance = facts.instance
            switch step {
            case .resizeVolume: return [.callGuest(instanceId: instance.id, .resizeVolume(sizeGB: instance.pendingVolumeSize ?? instance.volumeSize))]
            case .markVolumeResized: return instance.phase == .resizingVolume ? [.record(.recordVolumeResized, instanceId: instance.id)] : []
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            facts.instance.phase == .resizingVolume ? [.record(.recordFailure(reason: reason), instanceId: facts.instance.id)] : []
        }
    }

    /// `GuestChangeRequested`: the guest makes a change of databases, users, root or access rules; then
    /// `GuestChangeApplied`, or `GuestChangeFailed` with the guest's reason (the instance stays ACTIVE: a refused
    /// change is the caller's error). The API waits for the outcome, so the step is retried only briefly. A
    /// change to an instance being deleted ends at once: its guest is going away.
    public enum ChangeGuest: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case applyOnGuest, recordApplied }

        public static let kind = Kind.changeGuest

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .applyOnGuest: .init(timeout: .seconds(30), retry: .init(maxAttempts: 3, firstDelay: .milliseconds(500)))
            case .recordApplied: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            let instance = facts.instance
            guard case .guestChangeRequested(let change)? = facts.trigger else {
                return [.failPermanently(reason: "ChangeGuest was not started by a GuestChangeRequested")]
            }
            if let reason = unwanted(instance) { return [.cancel(reason: reason)] }
            switch step {
            case .applyOnGuest: return [.callGuest(instanceId: instance.id, .applyChange(change))]
            case .recordApplied: return .act(forgetting(change, instance.id) + [.record(.recordGuestChangeApplied(change), instanceId: instance.id)])
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            guard case .guestChangeRequested(let change)? = facts.trigger else { return [] }
            let forget = forgetting(change, facts.instance.id)
            if unwanted(facts.instance) != nil { return forget }  // deleted meanwhile
            return forget + [.record(.recordGuestChangeFailed(change, reason: reason), instanceId: facts.instance.id)]
        }

        /// The passwords a change handed over are forgotten once it is done (or failed).
        static func forgetting(_ change: Instance.GuestChange, _ instanceId: String) -> [Action] {
            switch change {
            case .createUsers(let users): [.forgetSecrets(instanceId: instanceId, .named(users.map { .user(Instance.UserAccount($0)) }))]
            case .changePasswords: [.forgetSecrets(instanceId: instanceId, .userPasswords)]
            case .enableRoot: [.forgetSecrets(instanceId: instanceId, .named([.root]))]
            case .createDatabases, .deleteDatabase, .deleteUser, .grantAccess, .revokeAccess, .disableRoot, .updateAccess, .renameUser: []
            }
        }
    }

    /// `ConfigurationAttached`, `ConfigurationUpdated`, `ConfigurationDetached`: the guest writes the values,
    /// reloads, and reports which wait for a restart; that outcome is recorded in the same step (the API waits).
    /// A refusal is `ConfigurationApplyFailed`: the guest kept its values.
    public enum ConfigureInstance: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case applyConfiguration }

        public static let kind = Kind.configureInstance

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .applyConfiguration: .init(timeout: .seconds(40), retry: .init(maxAttempts: 3, firstDelay: .milliseconds(500)))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            let instance = facts.instance
            guard instance.phase == .configuring else { return [] }  // recorded before a crash: nothing left to do
            return [.callGuest(instanceId: instance.id, .applyConfiguration(instance.configurationValues ?? [:]))]
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            facts.instance.phase == .configuring ? [.record(.recordConfigurationApplyFailed(reason: reason), instanceId: facts.instance.id)] : []
        }

        /// What the guest's answer records: applied, or waiting for a restart of `pendingRestart`.
        public static func recorded(pendingRestart: [String]) -> Instance.Command {
            pendingRestart.isEmpty ? .recordConfigurationApplied : .recordConfigurationRestartPending(parameters: pendingRestart)
        }
    }
}
