import Foundation
import Lifecycle

/// One real event of every type (several where guards need different data), for walks and coding tests.
enum Samples {
    static let postgres = Datastore(type: "postgresql", version: "17")

    static func instanceSpec(id: String = "inst-1", replicaOf: String? = nil) -> Instance.Spec {
        Instance.Spec(
            id: id, projectId: "proj-1", name: "orders", flavorId: "2", volumeSize: 2, datastore: postgres,
            databases: replicaOf == nil ? [Instance.DatabaseSpec(name: "orders")] : [],
            users: replicaOf == nil
                ? [Instance.UserSpec(name: "app", host: "%", databases: ["orders"], passwordSet: true)] : [],
            configurationId: nil, replicaOf: replicaOf, createdAt: Clock.t0)
    }

    static let instanceEvents: [Instance.Event] = [
        .instanceCreateRequested(instanceSpec()),
        .instanceCreateRequested(instanceSpec(replicaOf: "inst-0")),
        .computeAllocated(.init(serverId: "srv-1", address: "127.0.3.7")),
        .guestRegistered,
        .instanceBecameActive,
        .instanceFailed(Failure(reason: "prepare timed out", at: Clock.t1)),
        .statusReset,
        .buildRetryRequested,
        .restartRequested,
        .instanceRestarted,
        .flavorResizeRequested(.init(flavorId: "3")),
        .flavorResized(.init(flavorId: "3")),
        .volumeResizeRequested(.init(size: 4)),
        .volumeResized(.init(size: 4)),
        .upgradeRequested(.init(datastoreVersion: "18")),
        .instanceUpgraded(.init(datastoreVersion: "18")),
        .configurationAttached(.init(configurationId: "cfg-1", values: ["work_mem": .integer(8192)])),
        .configurationUpdated(.init(configurationId: "cfg-1", values: ["work_mem": .integer(4096), "enable_seqscan": .boolean(false)])),
        .configurationDetached,
        .configurationApplied,
        .configurationRestartPending(.init(parameters: ["max_connections"])),
        .configurationApplyFailed(.init(reason: "invalid value")),
        .instanceRenamed(.init(name: "billing-2")),
        .replicaPromotionRequested,
        .replicaPromoted,
        .replicaSourceEjectionRequested,
        .replicaSourceEjected,
        .replicaDetachRequested,
        .replicaDetached,
        .replicationSourceChanged(.init(sourceId: "i-2")),
        .guestBecameHealthy,
        .guestBecameUnhealthy(.init(health: .crashed)),
        .instanceShutDown,
        .instanceStarted,
        .backupStarted(.init(backupId: "bk-1")),
        .backupFinished(.init(backupId: "bk-1", succeeded: true)),
        .guestChangeRequested(.createDatabases([.init(name: "extra", characterSet: nil, collate: nil)])),
        .guestChangeApplied(.createDatabases([.init(name: "extra", characterSet: nil, collate: nil)])),
        .guestChangeFailed(.init(change: .enableRoot, reason: "guest away")),
        .deleteRequested,
        .instanceDeleted,
    ]

    static let backupSpec = Backup.Spec(
        id: "bk-1", projectId: "proj-1", name: "nightly", description: "before upgrade", instanceId: "inst-1",
        parentId: nil, incremental: false, datastore: postgres, locationRef: nil, size: nil, createdAt: Clock.t0)

    static let backupEvents: [Backup.Event] = [
        .backupCreateRequested(backupSpec),
        .backupImported(
            Backup.Spec(
                id: "bk-2", projectId: "proj-1", name: "imported", description: nil, instanceId: nil, parentId: nil,
                incremental: false, datastore: postgres, locationRef: "file:///backups/bk-2.tar.zst", size: 0.5,
                createdAt: Clock.t0)),
        .backupBuildStarted,
        .backupSaveStarted,
        .backupCompleted(.init(locationRef: "file:///backups/bk-1.tar.zst", size: 0.12, checksum: "sha256:ab12")),
        .backupFailed(Failure(reason: "pg_basebackup exited with 1", at: Clock.t1)),
        .backupDeleteRequested,
        .backupDeleted,
        .backupDeleteFailed(Failure(reason: "storage unreachable", at: Clock.t2)),
    ]

    static func member(_ id: String) -> Cluster.Member {
        Cluster.Member(id: id, name: "galera-\(id)", flavorId: "2", volumeSize: 1)
    }

    static let clusterSpec = Cluster.Spec(
        id: "cl-1", projectId: "proj-1", name: "galera", datastore: Datastore(type: "mariadb", version: "11.4"),
        members: [member("m1"), member("m2"), member("m3")], configurationId: nil, createdAt: Clock.t0)

    static let clusterEvents: [Cluster.Event] = [
        .clusterCreateRequested(clusterSpec),
        .clusterBecameActive,
        .clusterGrowRequested(.init(members: [member("m4")])),
        .clusterGrown,
        .clusterShrinkRequested(.init(memberIds: ["m1"])),
        .clusterShrunk,
        .clusterRestartRequested,
        .clusterRestarted,
        .clusterUpgradeRequested(.init(datastoreVersion: "11.8")),
        .clusterUpgraded(.init(datastoreVersion: "11.8")),
        .clusterConfigurationChangeRequested(.init(configurationId: "cfg-1")),
        .clusterConfigurationChanged(.init(configurationId: "cfg-1")),
        .clusterFailed(Failure(reason: "member m4 failed to join", at: Clock.t1)),
        .clusterStatusReset,
        .clusterDeleteRequested,
        .clusterDeleted,
        .clusterBalancerConfigured(.init(address: "127.42.0.9", algorithm: .roundrobin, memberIds: ["m1", "m2", "m3"])),
        .clusterBalancerChangeRequested(.init(algorithm: .leastconn)),
        .clusterWeightsChanged(.init(weights: ["m2": 100])),
        .clusterFailoverStarted(.init(lostPrimaryId: "m1", reason: "the primary reports crashed")),
        .clusterMemberFenced(.init(memberId: "m1", how: "stopped by its guest")),
        .clusterPrimaryElected(.init(memberId: "m2", refusals: [])),
        .clusterPrimaryPromoted(.init(memberId: "m2")),
        .clusterReplicasRepointed(.init(memberIds: ["m3"])),
        .clusterFailoverCompleted(.init(memberId: "m2")),
        .clusterRejoinRequested(.init(memberId: "m1")),
        .clusterMemberRejoined(.init(memberId: "m1")),
        .clusterRootEnabled(.init(memberId: "m2")),
        .clusterMemberRestarting(.init(memberId: "m2")),
    ]
}
