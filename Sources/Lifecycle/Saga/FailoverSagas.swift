import Foundation

/// The sagas of active-passive clusters' failover, on the cluster stream: each step records what it did, so the
/// cluster's history tells the failover step by step.
extension Saga {
    /// `ClusterFailoverStarted`: fence the lost primary (its guest stops it, or its server is powered off: it
    /// never takes writes on its own again) and record how, elect a replica from the members' live reports (`Failover.choose`),
    /// promote it, re-point the other replicas at it, then task NONE. The balancer's checks ask each member's
    /// role, so writes reach the new primary without a reconfiguration.
    public enum FailOver: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case fence, recordFence, elect, promote, repoint, markCompleted }

        public static let kind = Kind.failOver

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .fence: .init(timeout: .seconds(30), retry: .init(maxAttempts: 3, firstDelay: .milliseconds(200)))
            case .recordFence: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5, firstDelay: .milliseconds(200)))
            case .elect: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5, firstDelay: .milliseconds(500)))
            case .promote: .init(timeout: .seconds(60), retry: .init(maxAttempts: 3, firstDelay: .milliseconds(200)))
            case .repoint: .init(timeout: .seconds(60), retry: .init(maxAttempts: 3, firstDelay: .milliseconds(500)))
            case .markCompleted: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            guard let cluster = facts.cluster else { return [.failPermanently(reason: "no cluster")] }
            // Already ended (a step repeated after a crash of the task manager): nothing more to do.
            guard let failover = cluster.failover else { return [] }
            if let reason = unwanted(cluster) { return [.cancel(reason: reason)] }
            switch step {
            case .fence:
                return cluster.fencedMemberIds.contains(failover.lostPrimaryId) ? [] : [.fence(instanceId: failover.lostPrimaryId)]
            case .recordFence:
                guard !cluster.fencedMemberIds.contains(failover.lostPrimaryId) else { return [] }
                guard case .fenced(let how)? = facts.result(of: Step.fence) else {
                    return [.failPermanently(reason: "the lost primary \(failover.lostPrimaryId) was not fenced")]
                }
                return [.recordCluster(.recordFenced(memberId: failover.lostPrimaryId, how: how), clusterId: cluster.id)]
            case .elect:
                return [.electPrimary(clusterId: cluster.id)]
            case .promote:
                guard let elected = failover.electedId else { return [.failPermanently(reason: "nobody was elected")] }
                let followers = cluster.members.map(\.id).filter { $0 != elected }
                return [
                    .callGuest(instanceId: elected, .promote(replicaIds: followers)),
                    .recordCluster(.recordPromoted(memberId: elected), clusterId: cluster.id),
                ]
            case .repoint:
                guard let primary = cluster.primaryId else { return [] }
                let replicas = cluster.replicaIds
                return .act(
                    replicas.map { .callGuest(instanceId: $0, .follow(primaryId: primary)) }
                        + [.recordCluster(.recordRepointed(memberIds: replicas), clusterId: cluster.id)])
            case .markCompleted:
                return [.recordCluster(.recordFailoverCompleted, clusterId: cluster.id)]
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            guard let cluster = facts.cluster, cluster.phase == .failingOver else { return [] }
            return [.recordCluster(.recordFailure(reason: "failover failed: \(reason)"), clusterId: cluster.id)]
        }
    }

    /// `ClusterRejoinRequested`: a fenced member whose guest answers again becomes a replica of the primary (a
    /// fresh base backup: what it wrote after the primary moved is discarded).
    public enum RejoinMember: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case rejoin, markRejoined }

        public static let kind = Kind.rejoinMember

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .rejoin: .init(timeout: .seconds(300), retry: .init(maxAttempts: 3, firstDelay: .seconds(1)))
            case .markRejoined: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            guard let cluster = facts.cluster, case .clusterRejoinRequested(let member)? = facts.clusterTrigger else {
                return [.failPermanently(reason: "RejoinMember was not started by a ClusterRejoinRequested")]
            }
            if let reason = unwanted(cluster) { return [.cancel(reason: reason)] }
            guard let primary = cluster.primaryId else { return [.failPermanently(reason: "the cluster has no primary")] }
            switch step {
            case .rejoin: return [.callGuest(instanceId: member.memberId, .rejoin(primaryId: primary))]
            case .markRejoined:
                return cluster.phase == .rejoining ? [.recordCluster(.recordRejoined(memberId: member.memberId), clusterId: cluster.id)] : []
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            guard let cluster = facts.cluster, cluster.phase == .rejoining else { return [] }
            return [.recordCluster(.recordFailure(reason: "rejoin failed: \(reason)"), clusterId: cluster.id)]
        }
    }
}

extension Saga {
    /// `ClusterWeightsChanged`: a synchronous cluster's primary waits for its standbys in the new order of
    /// weight (`FIRST 1 (...)`), so the standby that would be promoted is the one that confirmed the last commits.
    /// Asynchronous clusters, and weights changed while a failover runs, need nothing here (the election reads them,
    /// and a promotion orders the standbys).
    public enum ApplyWeights: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case orderStandbys }

        public static let kind = Kind.applyWeights

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .orderStandbys: .init(timeout: .seconds(30), retry: .init(maxAttempts: 3), bestEffort: true)
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            guard let cluster = facts.cluster, cluster.phase == .active, cluster.synchronous, let primary = cluster.primaryId else { return [] }
            return [.callGuest(instanceId: primary, .promote(replicaIds: cluster.members.map(\.id).filter { $0 != primary }))]
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] { [] }
    }
}
