import Foundation

extension Saga {
    /// What a step does: act (its actions, in order), or wait for the log to reach a condition. A list of actions
    /// is written as an array literal.
    public enum StepWork: Sendable, Equatable, ExpressibleByArrayLiteral {
        /// Perform these actions, in order; the step succeeds when the last one does.
        case act([Action])
        /// Wait: every event appended to the watched streams is an input the step's `Wait.progress` decides on.
        case await(Wait)

        public init(arrayLiteral actions: Action...) { self = .act(actions) }
    }

    /// What a waiting step waits for. The runner folds the watched streams (`instanceIds`, `clusterIds`) and asks
    /// `progress` what to do each time one of them is appended to, until it is met (or
    /// the step's timeout ends the wait). Pure: the task manager's only part is folding and waking.
    public enum Wait: Sendable, Equatable {
        /// Until the instance satisfies `condition`.
        case instance(instanceId: String, InstanceCondition)
        /// Until the instances satisfy `condition`; while `clusterId`'s cluster is being deleted the wait ends
        /// cancelled.
        case instances(instanceIds: [String], MembersCondition, clusterId: String?)
        /// A rolling restart: each member in turn is asked to restart (recorded on the cluster as
        /// `ClusterMemberRestarting`), and the next one only once it is ACTIVE again.
        case rollingRestart(clusterId: String, memberIds: [String])

        /// The instances whose streams are watched.
        public var instanceIds: [String] {
            switch self {
            case .instance(let id, _): [id]
            case .instances(let ids, _, _): ids
            case .rollingRestart(_, let ids): ids
            }
        }

        /// The clusters whose streams are watched.
        public var clusterIds: [String] {
            switch self {
            case .instance: []
            case .instances(_, _, let clusterId): clusterId.map { [$0] } ?? []
            case .rollingRestart(let clusterId, _): [clusterId]
            }
        }

        /// The watched streams.
        public var streams: Set<String> { Set(instanceIds.map { "instance-\($0)" } + clusterIds.map { "cluster-\($0)" }) }

        /// What to do, given the watched streams as the log says now: `instances` folded in the order of
        /// `instanceIds`, `clusters` in the order of `clusterIds` (a stream with no events folds to version 0).
        public func progress(instances: [Instance.State], clusters: [Cluster.State]) -> Progress {
            for cluster in clusters {
                if let reason = Saga.unwanted(cluster) { return .cancelled(reason: reason) }
            }
            switch self {
            case .instance(_, let condition):
                guard let instance = instances.first else { return .failed(reason: "no instance to wait for") }
                return Progress(condition.evaluate(instance))
            case .instances(_, let condition, _):
                return Progress(condition.evaluate(instances))
            case .rollingRestart:
                guard let cluster = clusters.first else { return .failed(reason: "no cluster to restart") }
                return Self.rollingRestart(cluster, members: instances)
            }
        }

        /// The member the cluster records as restarting must be ACTIVE again before the next one is asked. The
        /// instance's restart is asked for before the cluster records it, so a member on record has been asked.
        private static func rollingRestart(_ cluster: Cluster.State, members: [Instance.State]) -> Progress {
            let current = members.firstIndex { $0.id == cluster.restartingMemberId }
            if let current {
                switch MembersCondition.allActive.evaluate([members[current]]) {
                case .met: break
                case .waiting: return .waiting
                case .cancelled(let reason), .failed(let reason): return .failed(reason: reason)
                }
            }
            let next = (current ?? -1) + 1
            guard next < members.count else { return .met }
            let member = members[next].id
            return .act([.restartInstance(instanceId: member), .recordCluster(.recordMemberRestarting(instanceId: member), clusterId: cluster.id)])
        }
    }

    /// What a wait does next.
    public enum Progress: Sendable, Equatable {
        /// The condition holds: the step succeeds.
        case met
        /// Not yet: wait for the next input.
        case waiting
        /// Perform these actions, then decide again.
        case act([Action])
        /// The work is no longer wanted: the saga ends cancelled.
        case cancelled(reason: String)
        /// The condition can no longer hold: the step fails without retries.
        case failed(reason: String)

        init(_ condition: ConditionResult) {
            switch condition {
            case .met: self = .met
            case .waiting: self = .waiting
            case .cancelled(let reason): self = .cancelled(reason: reason)
            case .failed(let reason): self = .failed(reason: reason)
            }
        }
    }

    /// What a `Wait.instance` waits for.
    public enum InstanceCondition: Sendable, Equatable {
        /// The guest agent's first heartbeat was recorded.
        case guestRegistered

        /// Whether `instance` satisfies the condition; `.cancelled` when it never will (being deleted).
        public func evaluate(_ instance: Instance.State) -> ConditionResult {
            if let reason = Saga.unwanted(instance) { return .cancelled(reason: reason) }
            switch self {
            case .guestRegistered: return instance.guestRegistered ? .met : .waiting
            }
        }
    }

    /// What a `Wait.instances` waits for, over the instances' folded states (a missing stream folds to version 0).
    public enum MembersCondition: Sendable, Equatable {
        /// Every instance ACTIVE; one in ERROR fails the wait.
        case allActive
        /// At least one ACTIVE (a joining member waits for a member to join).
        case anyActive
        /// Every instance deleted (or never created).
        case allGone

        /// Whether `instances` satisfy the condition.
        public func evaluate(_ instances: [Instance.State]) -> ConditionResult {
            switch self {
            case .allActive:
                if let failed = instances.first(where: { $0.status == "ERROR" }) {
                    return .failed(reason: "member \(failed.id) failed: \(failed.fault?.reason ?? "ERROR")")
                }
                return instances.allSatisfy { $0.status == "ACTIVE" && $0.phase == .active } ? .met : .waiting
            case .anyActive:
                return instances.contains { $0.status == "ACTIVE" } ? .met : .waiting
            case .allGone:
                return instances.allSatisfy { $0.version == 0 || $0.phase == .deleted } ? .met : .waiting
            }
        }
    }

    /// An evaluated condition.
    public enum ConditionResult: Sendable, Equatable {
        case met, waiting
        case cancelled(reason: String)
        case failed(reason: String)
    }
}
