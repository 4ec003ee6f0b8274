extension Instance {
    /// `state` after `event`: the chart moves the leaf (guards read `state`), then the event's data applies.
    /// Total: an event the chart refuses here is recorded in `unacceptedEvents` and the leaf kept.
    public static func evolve(_ state: State, _ event: Event, chart: Statechart) -> State {
        var next = state
        advance(&next, from: state, by: event, chart: chart)
        apply(event, to: &next, before: state)
        return next
    }

    private static func apply(_ event: Event, to next: inout State, before: State) {
        switch event {
        case .instanceCreateRequested(let spec):
            next.id = spec.id
            next.projectId = spec.projectId
            next.name = spec.name
            next.flavorId = spec.flavorId
            next.volumeSize = spec.volumeSize
            next.datastore = spec.datastore
            next.databases = spec.databases.map(\.name)
            next.users = spec.users.map(UserAccount.init)
            next.configurationId = spec.configurationId
            next.configurationValues = spec.configurationValues
            // The guest's prepare writes the group's values before the server's first start.
            if let id = spec.configurationId, let values = spec.configurationValues {
                next.appliedConfiguration = ConfigurationRef(configurationId: id, values: values)
            }
            next.replicaOf = spec.replicaOf
            next.cluster = spec.cluster
            next.createdAt = spec.createdAt
        case .computeAllocated(let allocation):
            next.serverId = allocation.serverId
            next.address = allocation.address
        case .guestRegistered:
            next.guestRegistered = true
        case .instanceRestarted:
            next.health = .healthy
            next.fault = nil
            next.pendingRestart = nil
        case .instanceBecameActive, .instanceStarted, .guestBecameHealthy:
            next.health = .healthy
            next.fault = nil
        case .instanceFailed(let failure):
            next.fault = Fault(reason: failure.reason, at: failure.at, statusBefore: before.status)
            clearPending(&next)
        case .statusReset:
            clearPending(&next)
            if next.status != "ERROR" {
                next.health = .unknown
                next.fault = nil
            }
        case .buildRetryRequested:
            next.fault = nil
            next.serverId = nil
            next.address = nil
            next.guestRegistered = false
            next.health = nil
        case .flavorResizeRequested(let change):
            next.pendingFlavorId = change.flavorId
        case .flavorResized(let change):
            next.flavorId = change.flavorId
            next.pendingFlavorId = nil
        case .volumeResizeRequested(let change):
            next.pendingVolumeSize = change.size
        case .volumeResized(let change):
            next.volumeSize = change.size
            next.pendingVolumeSize = nil
        case .upgradeRequested(let change):
            next.pendingDatastoreVersion = change.datastoreVersion
        case .instanceUpgraded(let change):
            next.datastore?.version = change.datastoreVersion
            next.pendingDatastoreVersion = nil
        case .configurationAttached(let configuration), .configurationUpdated(let configuration):
            next.configurationId = configuration.configurationId
            next.configurationValues = configuration.values.isEmpty ? nil : configuration.values
        case .configurationDetached:
            next.configurationId = nil
            next.configurationValues = nil
        case .configurationApplied:
            next.appliedConfiguration = next.requestedConfiguration
            next.pendingRestart = nil
        case .configurationRestartPending(let pending):
            next.appliedConfiguration = next.requestedConfiguration
            next.pendingRestart = pending.parameters
        case .configurationApplyFailed:
            // The guest kept what it had: so does the instance.
            next.configurationId = before.appliedConfiguration?.configurationId
            next.configurationValues = before.appliedConfiguration?.values
        case .instanceRenamed(let rename):
            next.name = rename.name
        case .replicaPromoted, .replicaSourceEjected, .replicaDetached:
            next.replicaOf = nil
        case .replicationSourceChanged(let source):
            next.replicaOf = source.sourceId
        case .guestBecameUnhealthy(let report):
            next.health = report.health
        case .instanceShutDown:
            next.health = .shutdown
        case .backupStarted(let backup):
            next.runningBackupId = backup.backupId
        case .backupFinished:
            next.runningBackupId = nil
        case .guestChangeApplied(let change):
            Instance.apply(change, to: &next)
        case .instanceDeleted:
            next.serverId = nil
            next.address = nil
            next.health = nil
        case .restartRequested, .replicaPromotionRequested, .replicaSourceEjectionRequested,
            .replicaDetachRequested, .deleteRequested, .guestChangeRequested, .guestChangeFailed:
            break
        }
    }

    private static func clearPending(_ state: inout State) {
        state.pendingFlavorId = nil
        state.pendingVolumeSize = nil
        state.pendingDatastoreVersion = nil
        state.runningBackupId = nil
    }
}
