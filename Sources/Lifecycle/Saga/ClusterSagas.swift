import Foundation

/// The sagas of clusters. A cluster saga works on its members as a parent workflow on children: it asks for
/// their creation, restart or deletion on their own streams, and waits for their outcome events; each member's
/// own saga does the work. A cluster that is being deleted cancels every other saga of it.
extension Saga {
    /// `ClusterCreateRequested`: lease every member's address (so each knows its peers), create the members
    /// (the first seeds the group, the others join it), wait until all are ACTIVE, start the load balancer,
    /// then task NONE. A member that fails ends the build: the cluster shows the failure, its members stay
    /// for inspection until the cluster is deleted (as Trove does).
    public enum CreateCluster: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case leaseAddresses, createMembers, awaitMembers, startBalancer, markActive }

        public static let kind = Kind.createCluster

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .leaseAddresses: .init(timeout: .seconds(30), retry: .init(maxAttempts: 3))
            case .createMembers: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            case .awaitMembers: .init(timeout: .seconds(600), retry: .once)
            case .startBalancer: .init(timeout: .seconds(30), retry: .init(maxAttempts: 3))
            case .markActive: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            guard let cluster = facts.cluster, let datastore = cluster.datastore else { return [.failPermanently(reason: "no cluster to build")] }
            if let reason = unwanted(cluster) { return [.cancel(reason: reason)] }
            let ids = cluster.members.map(\.id)
            switch step {
            case .leaseAddresses: return [.leaseAddresses(instanceIds: ids, datastore: datastore)]
            case .createMembers: return .act(members(cluster.members, of: cluster, joining: ids, seeding: true))
            case .awaitMembers: return .await(.instances(instanceIds: ids, .allActive, clusterId: cluster.id))
            case .startBalancer:
                return [.configureBalancer(clusterId: cluster.id, datastore: datastore, algorithm: cluster.algorithm, memberIds: ids)]
            case .markActive: return cluster.phase == .building ? [.recordCluster(.recordBecameActive, clusterId: cluster.id)] : []
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            guard let cluster = facts.cluster, cluster.phase == .building else { return [] }
            return [.recordCluster(.recordFailure(reason: reason), clusterId: cluster.id)]
        }

        /// `InstanceCreateRequested` for each member: peers are `joining` (every member it may reach); with
        /// `seeding`, the first member starts the group.
        /// Active-passive: the seed is the primary; the others replicate from the cluster's primary.
        static func members(_ members: [Cluster.Member], of cluster: Cluster.State, joining peers: [String], seeding: Bool) -> [Action] {
            guard let datastore = cluster.datastore else { return [] }
            let activePassive = cluster.strategy == .activePassive
            return members.enumerated().map { index, member in
                let seed = seeding && index == 0
                let source = activePassive && !seed ? cluster.primaryId : nil
                return .createInstance(
                    Instance.CreateRequest(
                        id: member.id, projectId: cluster.projectId, name: member.name, flavorId: member.flavorId,
                        volumeSize: member.volumeSize, datastore: datastore,
                        cluster: Instance.ClusterMembership(
                            clusterId: cluster.id, peers: peers, seed: seed, source: source,
                            synchronous: activePassive ? cluster.synchronous : nil)))
            }
        }
    }

    /// `ClusterDeleteRequested`: stop the balancer, delete every member (each member's own saga stops its
    /// server gracefully and frees it), wait until all are gone, free addresses never used, record the deletion.
    public enum DeleteCluster: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case removeBalancer, deleteMembers, awaitMembersGone, markDeleted }

        public static let kind = Kind.deleteCluster

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .removeBalancer: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            case .deleteMembers: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            case .awaitMembersGone: .init(timeout: .seconds(300), retry: .init(maxAttempts: 2))
            case .markDeleted: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            guard let cluster = facts.cluster else { return [.failPermanently(reason: "no cluster to delete")] }
            let ids = cluster.members.map(\.id)
            switch step {
            case .removeBalancer: return [.removeBalancer(clusterId: cluster.id)]
            case .deleteMembers: return .act(ids.map { .deleteInstance(instanceId: $0) })
            case .awaitMembersGone: return .await(.instances(instanceIds: ids, .allGone, clusterId: nil))
            case .markDeleted:
                return .act(
                    [.releaseAddresses(instanceIds: ids)]
                        + (cluster.phase == .deleting ? [.recordCluster(.recordDeleted, clusterId: cluster.id)] : []))
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            guard let cluster = facts.cluster, cluster.phase == .deleting else { return [] }
            return [.recordCluster(.recordFailure(reason: reason), clusterId: cluster.id)]
        }
    }

    /// `ClusterGrowRequested`: the new members join the running group (each waits for a running member, then
    /// copies the data); the balancer sends to them only once they are ACTIVE (synced).
    public enum GrowCluster: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case leaseAddresses, createMembers, awaitMembers, reconfigureBalancer, markGrown }

        public static let kind = Kind.growCluster

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .leaseAddresses: .init(timeout: .seconds(30), retry: .init(maxAttempts: 3))
            case .createMembers: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            case .awaitMembers: .init(timeout: .seconds(600), retry: .once)
            case .reconfigureBalancer: .init(timeout: .seconds(30), retry: .init(maxAttempts: 3))
            case .markGrown: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            guard let cluster = facts.cluster, let datastore = cluster.datastore,
                case .clusterGrowRequested(let added)? = facts.clusterTrigger
            else {
                return [.failPermanently(reason: "GrowCluster was not started by a ClusterGrowRequested")]
            }
            if let reason = unwanted(cluster) { return [.cancel(reason: reason)] }
            let newIds = added.members.map(\.id)
            switch step {
            case .leaseAddresses: return [.leaseAddresses(instanceIds: newIds, datastore: datastore)]
            case .createMembers: return .act(CreateCluster.members(added.members, of: cluster, joining: cluster.members.map(\.id), seeding: false))
            case .awaitMembers: return .await(.instances(instanceIds: newIds, .allActive, clusterId: cluster.id))
            case .reconfigureBalancer:
                return [
                    .configureBalancer(
                        clusterId: cluster.id, datastore: datastore, algorithm: cluster.algorithm, memberIds: cluster.members.map(\.id))
                ]
            case .markGrown: return cluster.phase == .growing ? [.recordCluster(.recordGrown, clusterId: cluster.id)] : []
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            guard let cluster = facts.cluster, cluster.phase == .growing else { return [] }
            return [.recordCluster(.recordFailure(reason: reason), clusterId: cluster.id)]
        }
    }

    /// `ClusterShrinkRequested`: the balancer stops sending to the leaving members first, then they are deleted
    /// (their servers leave the group gracefully as they stop).
    public enum ShrinkCluster: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case reconfigureBalancer, deleteMembers, awaitMembersGone, markShrunk }

        public static let kind = Kind.shrinkCluster

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .reconfigureBalancer: .init(timeout: .seconds(30), retry: .init(maxAttempts: 3))
            case .deleteMembers: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            case .awaitMembersGone: .init(timeout: .seconds(300), retry: .init(maxAttempts: 2))
            case .markShrunk: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            guard let cluster = facts.cluster, let datastore = cluster.datastore else { return [.failPermanently(reason: "no cluster to shrink")] }
            if let reason = unwanted(cluster) { return [.cancel(reason: reason)] }
            let leaving = cluster.leavingMemberIds
            switch step {
            case .reconfigureBalancer:
                let staying = cluster.members.map(\.id).filter { !leaving.contains($0) }
                return [.configureBalancer(clusterId: cluster.id, datastore: datastore, algorithm: cluster.algorithm, memberIds: staying)]
            case .deleteMembers: return .act(leaving.map { .deleteInstance(instanceId: $0) })
            case .awaitMembersGone: return .await(.instances(instanceIds: leaving, .allGone, clusterId: nil))
            case .markShrunk:
                return .act(
                    [.releaseAddresses(instanceIds: leaving)]
                        + (cluster.phase == .shrinking ? [.recordCluster(.recordShrunk, clusterId: cluster.id)] : []))
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            guard let cluster = facts.cluster, cluster.phase == .shrinking else { return [] }
            return [.recordCluster(.recordFailure(reason: reason), clusterId: cluster.id)]
        }
    }

    /// `ClusterRestartRequested`: a rolling restart, one member at a time, each ACTIVE again before the next.
    public enum RestartCluster: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case restartMembers, markRestarted }

        public static let kind = Kind.restartCluster

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .restartMembers: .init(timeout: .seconds(900), retry: .once)
            case .markRestarted: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            guard let cluster = facts.cluster else { return [.failPermanently(reason: "no cluster to restart")] }
            if let reason = unwanted(cluster) { return [.cancel(reason: reason)] }
            switch step {
            case .restartMembers: return .await(.rollingRestart(clusterId: cluster.id, memberIds: cluster.members.map(\.id)))
            case .markRestarted: return cluster.phase == .restarting ? [.recordCluster(.recordRestarted, clusterId: cluster.id)] : []
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            guard let cluster = facts.cluster, cluster.phase == .restarting else { return [] }
            return [.recordCluster(.recordFailure(reason: reason), clusterId: cluster.id)]
        }
    }

    /// `ClusterBalancerChangeRequested`: the balancer reloads with the new algorithm (established connections stay).
    public enum ChangeBalancer: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case reconfigureBalancer }

        public static let kind = Kind.changeBalancer

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .reconfigureBalancer: .init(timeout: .seconds(30), retry: .init(maxAttempts: 3))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            guard let cluster = facts.cluster, let datastore = cluster.datastore else { return [.failPermanently(reason: "no cluster")] }
            if let reason = unwanted(cluster) { return [.cancel(reason: reason)] }
            return [
                .configureBalancer(
                    clusterId: cluster.id, datastore: datastore, algorithm: cluster.algorithm,
                    memberIds: cluster.balancer?.memberIds ?? cluster.members.map(\.id))
            ]
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            guard let cluster = facts.cluster, cluster.phase == .updating else { return [] }
            return [.recordCluster(.recordFailure(reason: reason), clusterId: cluster.id)]
        }
    }
}
