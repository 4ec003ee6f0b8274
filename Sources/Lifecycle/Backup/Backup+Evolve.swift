extension Backup {
    /// `state` after `event`: the chart moves the leaf, then the event's data applies.
    /// Total: an event the chart refuses here is recorded in `unacceptedEvents` and the leaf kept.
    public static func evolve(_ state: State, _ event: Event, chart: Statechart) -> State {
        var next = state
        advance(&next, from: state, by: event, chart: chart)
        switch event {
        case .backupCreateRequested(let spec), .backupImported(let spec):
            next.id = spec.id
            next.projectId = spec.projectId
            next.name = spec.name
            next.description = spec.description
            next.instanceId = spec.instanceId
            next.parentId = spec.parentId
            next.incremental = spec.incremental
            next.datastore = spec.datastore
            next.locationRef = spec.locationRef
            next.size = spec.size
            next.createdAt = spec.createdAt
        case .backupCompleted(let artifact):
            next.locationRef = artifact.locationRef
            next.size = artifact.size
            next.checksum = artifact.checksum
            next.stored = artifact.stored
        case .backupFailed(let failure), .backupDeleteFailed(let failure):
            next.failure = failure
        case .backupBuildStarted, .backupSaveStarted, .backupDeleteRequested, .backupDeleted:
            break
        }
        return next
    }
}
