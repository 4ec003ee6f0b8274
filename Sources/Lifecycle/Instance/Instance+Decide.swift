import Foundation

extension Instance {
    /// The events `command` produces, checked against the chart first (as Trove checks the state before the
    /// arguments), then validated; throws why it is refused.
    public static func decide(
        _ command: Command, state: State, chart: Statechart, at now: Date
    ) throws(Rejection) -> [Event] {
        if case .create(let request) = command {
            try requireNew(state)
            return try accepted([.instanceCreateRequested(try spec(request, at: now))], in: state, chart: chart)
        }
        try requireExisting(state, chart: chart)
        if case .reportGuestHealth(let health) = command {
            return healthEvents(health, state: state, chart: chart)
        }
        let events = try accepted(proposedEvents(command, state: state, at: now), in: state, chart: chart)
        try validate(command, state: state)
        return events
    }

    private static func proposedEvents(_ command: Command, state: State, at now: Date) -> [Event] {
        switch command {
        case .create, .reportGuestHealth: []  // handled by decide
        case .recordComputeAllocated(let serverId, let address):
            [.computeAllocated(ComputeAllocation(serverId: serverId, address: address))]
        case .recordGuestRegistered: [.guestRegistered]
        case .recordBecameActive: [.instanceBecameActive]
        case .recordFailure(let reason): [.instanceFailed(Failure(reason: reason, at: now))]
        case .retryBuild: [.buildRetryRequested]
        case .resetStatus: [.statusReset]
        case .restart: [.restartRequested]
        case .recordRestarted: [.instanceRestarted]
        case .resizeFlavor(let flavorId): [.flavorResizeRequested(FlavorChange(flavorId: flavorId))]
        case .recordFlavorResized: [.flavorResized(FlavorChange(flavorId: state.pendingFlavorId ?? state.flavorId))]
        case .resizeVolume(let size): [.volumeResizeRequested(VolumeChange(size: size))]
        case .recordVolumeResized: [.volumeResized(VolumeChange(size: state.pendingVolumeSize ?? state.volumeSize))]
        case .upgrade(let version): [.upgradeRequested(VersionChange(datastoreVersion: version))]
        case .recordUpgraded:
            [
                .instanceUpgraded(
                    VersionChange(
                        datastoreVersion: state.pendingDatastoreVersion ?? state.datastore?.version ?? ""))
            ]
        case .attachConfiguration(let configuration): [.configurationAttached(configuration)]
        case .updateConfiguration(let configuration): [.configurationUpdated(configuration)]
        case .detachConfiguration: [.configurationDetached]
        case .recordConfigurationApplied: [.configurationApplied]
        case .recordConfigurationRestartPending(let parameters): [.configurationRestartPending(PendingRestart(parameters: parameters))]
        case .recordConfigurationApplyFailed(let reason): [.configurationApplyFailed(ConfigurationFailure(reason: reason))]
        case .rename(let name): [.instanceRenamed(Rename(name: name.trimmingCharacters(in: .whitespacesAndNewlines)))]
        case .promoteToReplicaSource: [.replicaPromotionRequested]
        case .recordPromoted: [.replicaPromoted]
        case .ejectReplicaSource: [.replicaSourceEjectionRequested]
        case .recordSourceEjected: [.replicaSourceEjected]
        case .detachReplica: [.replicaDetachRequested]
        case .recordReplicaDetached: [.replicaDetached]
        case .recordReplicationSource(let source): state.replicaOf == source ? [] : [.replicationSourceChanged(ReplicationSource(sourceId: source))]
        case .recordShutDown: [.instanceShutDown]
        case .recordStarted: [.instanceStarted]
        case .startBackup(let backupId): [.backupStarted(BackupRef(backupId: backupId))]
        case .finishBackup(let backupId, let succeeded):
            [.backupFinished(BackupOutcome(backupId: backupId, succeeded: succeeded))]
        // Nothing allocated yet (a build still waiting for compute): nothing to clean up, so it is gone at once.
        case .delete: state.serverId == nil && state.status == "BUILD" ? [.deleteRequested, .instanceDeleted] : [.deleteRequested]
        case .recordDeleted: [.instanceDeleted]
        case .requestGuestChange(let change): [.guestChangeRequested(change)]
        case .recordGuestChangeApplied(let change): [.guestChangeApplied(change)]
        case .recordGuestChangeFailed(let change, let reason): [.guestChangeFailed(GuestChangeFailure(change: change, reason: reason))]
        }
    }

    /// The arguments' checks, once the chart has accepted the command's events.
    private static func validate(_ command: Command, state: State) throws(Rejection) {
        switch command {
        case .recordComputeAllocated(let serverId, let address):
            try require(!serverId.isEmpty && !address.isEmpty, "A compute allocation needs a server id and an address")
        case .recordFailure(let reason):
            try require(!reason.isEmpty, "A failure needs a reason")
        case .resizeFlavor(let flavorId):
            try require(!flavorId.isEmpty, "The new flavor id must not be empty")
            try require(flavorId != state.flavorId, "The new flavor must differ from the current one (\(flavorId))")
        case .resizeVolume(let size):
            try require(
                size > state.volumeSize,
                "The new volume size (\(size) GB) must be larger than the current one (\(state.volumeSize) GB)")
        case .upgrade(let version):
            try require(!version.isEmpty, "The datastore version must not be empty")
            try require(version != state.datastore?.version, "The instance already runs datastore version \(version)")
        case .attachConfiguration(let configuration):
            try require(!configuration.configurationId.isEmpty, "The configuration id must not be empty")
            if let attached = state.configurationId {
                throw .notAllowedInState("\(state.subject) already has configuration \(attached) attached; detach it first")
            }
        case .updateConfiguration(let configuration):
            if state.configurationId != configuration.configurationId {
                throw .notAllowedInState("\(state.subject) does not have configuration \(configuration.configurationId) attached")
            }
        case .rename(let name):
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            try require(!trimmed.isEmpty, "The instance name must not be empty")
            try require(trimmed.count <= 255, "The instance name must be at most 255 characters")
        case .detachConfiguration:
            if state.configurationId == nil { throw .notAllowedInState("\(state.subject) has no configuration attached") }
        case .requestGuestChange(let change):
            try Instance.validate(change, state: state)
        case .startBackup(let backupId):
            try require(!backupId.isEmpty, "The backup id must not be empty")
        case .finishBackup(let backupId, _):
            if let running = state.runningBackupId, running != backupId {
                throw .notAllowedInState("\(state.subject) is running backup \(running), not \(backupId)")
            }
        case .create, .reportGuestHealth, .recordGuestRegistered, .recordBecameActive, .retryBuild, .resetStatus,
            .restart, .recordRestarted, .recordFlavorResized, .recordVolumeResized, .recordUpgraded,
            .recordConfigurationApplied, .recordConfigurationRestartPending, .recordConfigurationApplyFailed,
            .promoteToReplicaSource, .recordPromoted, .ejectReplicaSource,
            .recordSourceEjected, .detachReplica, .recordReplicaDetached, .recordReplicationSource, .recordShutDown, .recordStarted, .delete,
            .recordDeleted, .recordGuestChangeApplied, .recordGuestChangeFailed:
            break
        }
    }

    /// A heartbeat becomes an event only when the health changes and the chart listens to health here.
    private static func healthEvents(_ health: GuestHealth, state: State, chart: Statechart) -> [Event] {
        guard health != state.health else { return [] }
        let event: Event = health == .healthy ? .guestBecameHealthy : .guestBecameUnhealthy(UnhealthyGuest(health: health))
        let accepted = chart.fire(event: event.eventType, in: state.leaf) { guardHolds($0, in: state, on: event) }
        if case .success = accepted { return [event] }
        return []
    }

    /// Validates a create request and strips its passwords.
    private static func spec(_ request: CreateRequest, at now: Date) throws(Rejection) -> Spec {
        let name = request.name.trimmingCharacters(in: .whitespacesAndNewlines)
        try require(!request.id.isEmpty, "The instance id must not be empty")
        try require(!request.projectId.isEmpty, "The project id must not be empty")
        try require(!name.isEmpty, "The instance name must not be empty")
        try require(name.count <= 255, "The instance name must be at most 255 characters")
        try require(!request.flavorId.isEmpty, "The flavor (flavorRef) must not be empty")
        try require(request.volumeSize > 0, "The volume size must be greater than 0 GB, not \(request.volumeSize)")
        try require(
            !request.datastore.type.isEmpty && !request.datastore.version.isEmpty,
            "The datastore type and version must not be empty")
        try require(request.replicaOf == nil || request.restoreFrom == nil, "A replica copies its source; it cannot also be restored from a backup")
        if request.replicaOf != nil {
            try require(
                request.databases.isEmpty && request.users.isEmpty,
                "A replica cannot be created with databases or users; it copies its source")
        }
        let databaseNames = request.databases.map(\.name)
        try require(databaseNames.allSatisfy { !$0.isEmpty }, "Database names must not be empty")
        try require(Set(databaseNames).count == databaseNames.count, "Database names must be unique")
        let userNames = request.users.map(\.name)
        try require(userNames.allSatisfy { !$0.isEmpty }, "User names must not be empty")
        let accounts = request.users.map { "\($0.name)@\($0.host)" }
        try require(Set(accounts).count == accounts.count, "Users must be unique (name and host)")
        for user in request.users {
            try require(!user.password.isEmpty, "User \(user.name) needs a password")
        }
        return Spec(
            id: request.id, projectId: request.projectId, name: name, flavorId: request.flavorId,
            volumeSize: request.volumeSize, datastore: request.datastore, databases: request.databases,
            users: request.users.map {
                UserSpec(name: $0.name, host: $0.host, databases: $0.databases, passwordSet: !$0.password.isEmpty)
            },
            configurationId: request.configurationId,
            configurationValues: request.configurationId == nil ? nil : request.configurationValues ?? [:],
            replicaOf: request.replicaOf, cluster: request.cluster, createdAt: now, restoreFrom: request.restoreFrom)
    }
}
