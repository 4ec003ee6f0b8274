import Foundation

extension Saga {
    /// What a saga step asks the task manager to do, as a value: the task manager's interpreter performs each
    /// one (one exhaustive `switch`), the saga decides which, in order. Everything that touches a server, the
    /// bus or the log is one of these.
    public enum Action: Sendable, Equatable {
        /// Lease the instance an address, make its guest's queue and broker user, and start its server and guest
        /// agent (an earlier attempt's are found again). The step's result is the server (`StepResult.server`),
        /// which the next step records (or, when the instance was deleted meanwhile, its delete saga releases).
        case allocateCompute(instanceId: String, datastore: Datastore)
        /// Remove the instance's server, data, address, guest queue and broker user (idempotent).
        case releaseCompute(instanceId: String)
        /// Call the instance's guest agent.
        case callGuest(instanceId: String, GuestCall)
        /// Append a fact to the instance's stream through its `decide`.
        case record(Instance.Command, instanceId: String)
        /// Forget passwords handed over for the guest, once it has them.
        case forgetSecrets(instanceId: String, SecretScope)
        /// Forget the guest's last heartbeat (its instance is gone).
        case forgetHeartbeat(instanceId: String)
        /// Lease each instance its address now (a cluster's members learn their peers' addresses before they start).
        case leaseAddresses(instanceIds: [String], datastore: Datastore)
        /// Append `InstanceCreateRequested` for a cluster member (done already: nothing).
        case createInstance(Instance.CreateRequest)
        /// Ask for an instance's deletion (being deleted, or gone: nothing), so its own saga removes it.
        case deleteInstance(instanceId: String)
        /// Ask for an instance's restart (restarting already: nothing), so its own saga restarts it.
        case restartInstance(instanceId: String)
        /// Append a fact to a cluster's stream through its `decide`.
        case recordCluster(Cluster.Command, clusterId: String)
        /// Start the cluster's load balancer on the cluster's own address, or reload it, sending to these members,
        /// and record `ClusterBalancerConfigured` when that changed anything.
        case configureBalancer(clusterId: String, datastore: Datastore, algorithm: Cluster.BalancerAlgorithm, memberIds: [String])
        /// Stop the cluster's load balancer and free its address (idempotent).
        case removeBalancer(clusterId: String)
        /// Free the addresses leased for these instances (members that never started keep none).
        case releaseAddresses(instanceIds: [String])
        /// Make sure the instance can no longer take writes: its guest stops the server and keeps it stopped, or,
        /// when the guest does not answer within two seconds, its server is powered off. The step's result says
        /// which (`StepResult.fenced`).
        case fence(instanceId: String)
        /// Ask every member of the active-passive cluster for its replication state, choose whom to promote
        /// (`Failover.choose` with the cluster's policy) and record `ClusterPrimaryElected`; nobody: the step fails
        /// with every refusal.
        case electPrimary(clusterId: String)
        /// Append a fact to a backup's stream through its `decide`.
        case recordBackup(Backup.Command, backupId: String)
        /// Grant the instance's guest a write on the backup's prefix in the object store, have it stream its
        /// datastore there sealed under a new key of the backup's own, and record `BackupCompleted` with the
        /// objects it wrote and the key (sealed by Cellar's secret key).
        case storeBackup(instanceId: String, backupId: String)
        /// Remove every object under the backup's prefix from the store (none: nothing).
        case removeBackupObjects(backupId: String)
        /// The work is no longer wanted (the instance is being deleted): the saga ends cancelled.
        case cancel(reason: String)
        /// Nothing can make this step succeed: the step fails without retries.
        case failPermanently(reason: String)
    }

    /// A call to a guest agent, typed; the interpreter seals passwords and builds the wire body.
    public enum GuestCall: Sendable, Equatable {
        /// Install the datastore and create the requested databases and users (the passwords come from the
        /// handed-over secrets).
        case prepare(Instance.Spec, volumeSizeGB: Int, configurationValues: [String: ParameterValue]?)
        /// Stop the datastore server (when the instance's server runs at all).
        case stopDatastore
        /// Restart the datastore; with a flavor, sized from its memory.
        case restart(flavorId: String?)
        /// Enforce a new volume size.
        case resizeVolume(sizeGB: Int)
        /// Make a change of databases, users, root or access rules.
        case applyChange(Instance.GuestChange)
        /// Apply configuration values (none: detached) and record what the guest answered
        /// (`ConfigureInstance.recorded(pendingRestart:)`).
        case applyConfiguration([String: ParameterValue])
        /// Promote this standby to primary, with a replication slot for each of these members.
        case promote(replicaIds: [String])
        /// Replicate from this primary from now on (its new timeline included).
        case follow(primaryId: String)
        /// Start over as a replica of this primary (a fresh base backup replaces the data).
        case rejoin(primaryId: String)
        /// Stop gracefully for a planned switchover (the replicas receive everything first) and stay stopped.
        case stopForSwitchover
        /// Serve these replicas (the source of a Trove replica: the replication account, their addresses allowed).
        case serveReplicas(replicaIds: [String])
        /// Drop the replication slot of this (deleted or detached) replica, so the source keeps no WAL for it.
        case dropReplicationSlot(replicaId: String)
    }

    /// Which handed-over passwords to forget.
    public enum SecretScope: Sendable, Equatable {
        /// Every secret of the instance.
        case all
        /// Every user password (a password change names users, not secrets).
        case userPasswords
        /// These secrets.
        case named([SecretName])
    }

    /// Why work on `cluster` is no longer wanted (nil: it is).
    public static func unwanted(_ cluster: Cluster.State) -> String? {
        guard cluster.phase == .deleting || cluster.phase == .deleted || cluster.version == 0 else { return nil }
        return "cluster \(cluster.id) is being deleted; the work stops here"
    }

    /// Why work on `instance` is no longer wanted (nil: it is).
    public static func unwanted(_ instance: Instance.State) -> String? {
        guard instance.phase == .deleting || instance.phase == .deleted || instance.version == 0 else { return nil }
        return "instance \(instance.id) is being deleted; the work stops here"
    }
}
