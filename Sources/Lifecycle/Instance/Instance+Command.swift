extension Instance {
    /// What the API, the task manager and the conductor ask of an instance. `record...` commands report
    /// facts observed by the task manager or the guest; the others are user or operator requests.
    public enum Command: Sendable, Equatable {
        /// `POST /instances`.
        case create(CreateRequest)
        /// The compute driver started the server.
        case recordComputeAllocated(serverId: String, address: String)
        /// The guest agent sent its first heartbeat.
        case recordGuestRegistered
        /// The guest prepared the datastore and it is healthy.
        case recordBecameActive
        /// A task failed past its retries.
        case recordFailure(reason: String)
        /// Retry a failed build from compute allocation.
        case retryBuild
        /// `{"reset_status": {}}` (admin).
        case resetStatus
        /// `{"restart": {}}`.
        case restart
        /// The datastore came back after a restart.
        case recordRestarted
        /// `{"resize": {"flavorRef": ...}}`.
        case resizeFlavor(flavorId: String)
        /// The server runs on the requested flavor.
        case recordFlavorResized
        /// `{"resize": {"volume": {"size": ...}}}`.
        case resizeVolume(size: Int)
        /// The volume has the requested size.
        case recordVolumeResized
        /// `PATCH {"instance": {"datastore_version": ...}}`.
        case upgrade(datastoreVersion: String)
        /// The datastore runs the requested version.
        case recordUpgraded
        /// `PUT {"instance": {"configuration": ...}}`, with the group's values.
        case attachConfiguration(ConfigurationRef)
        /// The attached group's values changed.
        case updateConfiguration(ConfigurationRef)
        /// `PUT {"instance": {"configuration": null}}`.
        case detachConfiguration
        /// The guest has every value live.
        case recordConfigurationApplied
        /// The guest applied what it could live; these settings wait for a restart.
        case recordConfigurationRestartPending(parameters: [String])
        /// The guest could not apply the configuration (it kept what it had).
        case recordConfigurationApplyFailed(reason: String)
        /// `PUT {"instance": {"name": ...}}`.
        case rename(name: String)
        /// `{"promote_to_replica_source": {}}`.
        case promoteToReplicaSource
        /// The replica is the source now.
        case recordPromoted
        /// `{"eject_replica_source": {}}`.
        case ejectReplicaSource
        /// The replica took over from the ejected source.
        case recordSourceEjected
        /// `PUT {"instance": {"replica_of": null}}`.
        case detachReplica
        /// The replica no longer replicates.
        case recordReplicaDetached
        /// The instance replicates from `sourceId` now (its source was promoted away or ejected).
        case recordReplicationSource(sourceId: String)
        /// A guest heartbeat; ignored where the chart does not listen to health (as Trove ignores it).
        case reportGuestHealth(GuestHealth)
        /// The server stopped.
        case recordShutDown
        /// The server runs again.
        case recordStarted
        /// A backup of this instance starts.
        case startBackup(backupId: String)
        /// That backup ended.
        case finishBackup(backupId: String, succeeded: Bool)
        /// A change of databases, users or root (`POST /databases`, `PUT /users/{name}/databases`, ...).
        case requestGuestChange(GuestChange)
        /// The guest made the change.
        case recordGuestChangeApplied(GuestChange)
        /// The guest refused or could not make the change.
        case recordGuestChangeFailed(GuestChange, reason: String)
        /// `DELETE /instances/{id}`.
        case delete
        /// The server and its data are gone.
        case recordDeleted
    }
}
