import Bus
import Compute
import Foundation
import GuestProtocol
import Lifecycle

/// A saga's typed guest call made into an RPC to one instance's guest agent: passwords opened from the
/// handed-over secrets and sealed again for that guest alone, flavors looked up for their memory.
struct GuestCalls: Sendable {
    let context: SagaContext
    let instanceID: String

    var services: TaskManagerServices { context.services }
    var stream: String { "instance-\(instanceID)" }

    func perform(_ guestCall: Saga.GuestCall) async throws {
        switch guestCall {
        case .prepare(let spec, let volumeSizeGB, let configurationValues):
            let passwords = try await services.secrets.passwords(stream: stream)
            let box = try services.secrets.guestBox(for: instanceID)
            let flavor = try await services.catalog.flavor(spec.flavorId)
            var restore: RestoreSource?
            if let backupID = spec.restoreFrom { restore = try await BackupActions(context: context).restoreSource(of: backupID, into: instanceID) }
            let request = PrepareRequest(
                databases: spec.databases.map { GuestDatabase(name: $0.name, characterSet: $0.characterSet, collate: $0.collate) },
                users: try spec.users.map {
                    try GuestUser(name: $0.name, host: $0.host, password: passwords[.user($0.name, host: $0.host)], databases: $0.databases)
                        .sealed(with: box)
                },
                memoryMB: flavor?.ramMB ?? 512, volumeSizeGB: volumeSizeGB, overrides: configurationValues,
                cluster: try await memberSettings(spec),
                restore: restore)
            try await call(.prepare, request)
        case .stopDatastore:
            guard await services.compute.status(instanceID: instanceID) == .running else { return }
            try await call(.stop, [String: String]())
        case .restart(let flavorID):
            var memoryMB: Int?
            if let flavorID {
                guard let flavor = try await services.catalog.flavor(flavorID) else { throw PermanentFailure("flavor \(flavorID) no longer exists") }
                memoryMB = flavor.ramMB
            }
            try await call(.restart, RestartRequest(memoryMB: memoryMB))
        case .resizeVolume(let sizeGB):
            try await call(.resizeVolume, ResizeVolumeRequest(sizeGB: sizeGB))
        case .applyChange(let change):
            try await apply(change)
        case .applyConfiguration(let values):
            let answer = try await context.callGuest(instanceID, GuestMethod.updateOverrides.rawValue, OverridesRequest(values: values))
            let outcome = try answer.decode(as: OverridesOutcome.self)
            try await context.record(Saga.ConfigureInstance.recorded(pendingRestart: outcome.pendingRestart), on: instanceID)
        case .promote(let replicaIDs):
            // A cluster's slots in order of weight: the synchronous standbys' order of preference on the new primary.
            let instance = try await context.instance(instanceID)
            var slots = replicaIDs.map(ReplicationSettings.slotName(of:))
            if let clusterID = instance.cluster?.clusterId {
                slots = Self.standbySlots(of: try await context.cluster(clusterID), except: instanceID).filter(slots.contains)
            }
            try await call(.promote, PromoteRequest(replicaSlots: slots))
        case .stopForSwitchover:
            try await call(.fence, FenceRequest(graceful: true))
        case .follow(let primaryID):
            try await call(.follow, FollowRequest(replication: try await replication(primary: primaryID)))
        case .rejoin(let primaryID):
            try await call(.rejoin, FollowRequest(replication: try await replication(primary: primaryID)))
        case .serveReplicas(let replicaIDs):
            let instance = try await context.instance(instanceID)
            var addresses: [String] = []
            for replica in replicaIDs { addresses.append(try await address(of: replica, "replica \(replica)")) }
            let replication = try replicationSettings(primaryAddress: nil, scope: .project(instance.projectId))
            try await call(.serveReplicas, ServeReplicasRequest(replication: replication, replicaAddresses: addresses))
        case .dropReplicationSlot(let replicaID):
            // The source may be gone (deleted before its replica): nothing keeps WAL for the replica then.
            let source = try await context.instance(instanceID)
            guard source.version > 0, Saga.unwanted(source) == nil else { return }
            try await call(.dropReplicationSlot, NameRequest(name: ReplicationSettings.slotName(of: replicaID)))
        }
    }

    /// The replication password's scope for Trove replicas: the project (a promoted replica serves the others with
    /// the account it copied from its source, so the whole project's replication shares it).
    static func replicationSet(project: String) -> String { "project-\(project)" }

    /// A Trove replica's or a cluster member's place (nil: a standalone instance).
    private func memberSettings(_ spec: Instance.Spec) async throws -> ClusterSettings? {
        if let source = spec.replicaOf { return try await replicaSettings(of: source, projectID: spec.projectId) }
        return try await clusterSettings(spec.cluster)
    }

    /// A Trove replica's place: it streams from `sourceID` through a slot of its own.
    private func replicaSettings(of sourceID: String, projectID: String) async throws -> ClusterSettings {
        let source = try await address(of: sourceID, "the source \(sourceID)")
        let own = try await address(of: instanceID, "replica \(instanceID)")
        return ClusterSettings(
            name: "replication", nodeName: instanceID, peerAddresses: [source, own], seed: false,
            replication: try replicationSettings(primaryAddress: source, scope: .project(projectID)))
    }

    /// How this member (or Trove replica) replicates from `primaryID` (an active-passive member's cluster is on
    /// its stream).
    private func replication(primary primaryID: String) async throws -> ReplicationSettings {
        let instance = try await context.instance(instanceID)
        var scope = ReplicationScope.project(instance.projectId)
        if let membership = instance.cluster { scope = .cluster(try await context.cluster(membership.clusterId)) }
        return try replicationSettings(primaryAddress: try await address(of: primaryID, "the primary \(primaryID)"), scope: scope)
    }

    /// Whose replication an instance is part of: an active-passive cluster's, or its project's Trove replicas'.
    private enum ReplicationScope {
        case cluster(Cluster.State)
        case project(String)
    }

    /// This instance's replication from `primaryAddress` (nil: it is the primary, or a source): an active-passive
    /// member's takes its cluster's password, synchronous mode and standby order; a Trove replica's or source's,
    /// the project's password, asynchronous, no automatic failover.
    private func replicationSettings(primaryAddress: String?, scope: ReplicationScope) throws -> ReplicationSettings {
        let slot = ReplicationSettings.slotName(of: instanceID)
        switch scope {
        case .cluster(let cluster):
            return ReplicationSettings(
                primaryAddress: primaryAddress, slotName: slot,
                sealedPassword: try services.secrets.sealedReplicationPassword(cluster: cluster.id, for: instanceID),
                synchronous: cluster.synchronous, standbySlots: Self.standbySlots(of: cluster, except: instanceID))
        case .project(let projectID):
            return ReplicationSettings(
                primaryAddress: primaryAddress, slotName: slot,
                sealedPassword: try services.secrets.sealedReplicationPassword(cluster: Self.replicationSet(project: projectID), for: instanceID),
                synchronous: false, standbySlots: [], automaticFailover: false)
        }
    }

    /// The address leased to `id` (`what` names it in the error).
    private func address(of id: String, _ what: String) async throws -> String {
        guard let address = try await services.addresses.leased(by: id) else { throw PermanentFailure("\(what) has no address") }
        return address
    }

    /// A member's group: its peers' addresses (leased by the cluster's saga before any member started).
    private func clusterSettings(_ membership: Instance.ClusterMembership?) async throws -> ClusterSettings? {
        guard let membership else { return nil }
        var addresses: [String] = []
        for peer in membership.peers {
            addresses.append(try await address(of: peer, "member \(peer) of cluster \(membership.clusterId)"))
        }
        var replication: ReplicationSettings?
        if membership.synchronous != nil {  // active-passive
            var primaryAddress: String?
            if let source = membership.source {
                primaryAddress = try await address(of: source, "the primary \(source) of cluster \(membership.clusterId)")
            }
            replication = try replicationSettings(primaryAddress: primaryAddress, scope: .cluster(try await context.cluster(membership.clusterId)))
        }
        return ClusterSettings(
            name: membership.clusterId, nodeName: instanceID, peerAddresses: addresses, seed: membership.seed,
            replication: replication)
    }

    /// The other members' slots, highest weight first (ties: the cluster's order).
    static func standbySlots(of cluster: Cluster.State, except instanceID: String) -> [String] {
        cluster.members.enumerated().filter { $0.element.id != instanceID }
            .sorted { ($0.element.promotionWeight, -$0.offset) > ($1.element.promotionWeight, -$1.offset) }
            .map { ReplicationSettings.slotName(of: $0.element.id) }
    }

    private func call<Arguments: Encodable>(_ method: GuestMethod, _ arguments: Arguments) async throws {
        _ = try await context.callGuest(instanceID, method.rawValue, arguments)
    }

    /// A change of databases, users, root or access rules; passwords travel sealed for this guest.
    private func apply(_ change: Instance.GuestChange) async throws {
        let passwords = try await services.secrets.passwords(stream: stream)
        let box = try services.secrets.guestBox(for: instanceID)
        switch change {
        case .createDatabases(let databases):
            try await call(
                .createDatabase,
                DatabasesRequest(
                    databases: databases.map {
                        GuestDatabase(name: $0.name, characterSet: $0.characterSet, collate: $0.collate)
                    }))
        case .deleteDatabase(let name):
            try await call(.deleteDatabase, NameRequest(name: name))
        case .createUsers(let users):
            try await call(
                .createUser,
                UsersRequest(
                    users: users.map {
                        try GuestUser(name: $0.name, host: $0.host, password: passwords[.user($0.name, host: $0.host)], databases: $0.databases)
                            .sealed(with: box)
                    }))
        case .deleteUser(let name, let host):
            try await call(.deleteUser, NameRequest(name: name, host: host))
        case .grantAccess(let user, let host, let databases):
            try await call(.grantAccess, AccessRequest(user: user, host: host, databases: databases))
        case .revokeAccess(let user, let host, let database):
            try await call(.revokeAccess, AccessRequest(user: user, host: host, databases: [database]))
        case .changePasswords(let users, let hosts):
            let changes = try users.enumerated().map { index, name in
                // Changes recorded before users had hosts name the user alone: its one account's password is found by name.
                let wanted = hosts.map { Instance.UserAccount(name: name, host: $0[index]) }
                let secret = passwords.lazy.compactMap { entry -> (account: Instance.UserAccount, password: String)? in
                    guard case .user(let account) = entry.key, wanted.map({ $0 == account }) ?? (account.name == name) else { return nil }
                    return (account, entry.value)
                }.first
                let host = secret?.account.host ?? hosts?[index] ?? "%"
                return try GuestUser(name: name, host: host, password: secret?.password).sealed(with: box)
            }
            try await call(.changePassword, UsersRequest(users: changes))
        case .disableRoot:
            try await call(.disableRoot, [String: String]())
        case .renameUser(let name, let host, let newName, let newHost):
            try await call(.renameUser, RenameUserRequest(name: name, host: host, newName: newName, newHost: newHost))
        case .updateAccess(let access):
            try await call(.updateAccess, AccessRulesRequest(allowedCidrs: access.allowedCidrs))
        case .enableRoot:
            guard let password = passwords[.root] else { throw PermanentFailure("the root password was not handed over") }
            try await call(.enableRoot, EnableRootRequest(sealedPassword: try .root(password, box: box)))
        }
    }
}
