import Foundation

/// The sagas of Trove replicas (`replica_of`), on the replica's stream.
extension Saga {
    /// `ReplicaDetachRequested` (`PUT {"instance": {"replica_of": null}}`): the replica stops replicating and
    /// takes writes as a standalone instance (`pg_ctl promote`, no slots to serve), its slot on the source is
    /// dropped (best effort: the source may be gone), then `ReplicaDetached`.
    public enum DetachReplica: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case promote, dropReplicationSlot, markDetached }

        public static let kind = Kind.detachReplica

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .promote: .init(timeout: .seconds(60), retry: .init(maxAttempts: 3))
            case .dropReplicationSlot: .init(timeout: .seconds(30), retry: .once, bestEffort: true)
            case .markDetached: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            let instance = facts.instance
            if let reason = unwanted(instance) { return [.cancel(reason: reason)] }
            guard instance.phase == .detaching else { return [] }  // done before a crash
            switch step {
            case .promote: return [.callGuest(instanceId: instance.id, .promote(replicaIds: []))]
            case .dropReplicationSlot:
                guard let source = instance.replicaOf else { return [] }
                return [.callGuest(instanceId: source, .dropReplicationSlot(replicaId: instance.id))]
            case .markDetached: return [.record(.recordReplicaDetached, instanceId: instance.id)]
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            facts.instance.phase == .detaching ? [.record(.recordFailure(reason: reason), instanceId: facts.instance.id)] : []
        }
    }
}

extension Saga {
    /// `ReplicaPromotionRequested` (`promote_to_replica_source`, a planned switchover): the source stops
    /// gracefully (its replicas receive everything first, so nothing is lost), this replica is promoted and the
    /// other replicas follow it, the old source comes back as its replica (a fresh base backup).
    public enum PromoteToReplicaSource: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case stopSource, takeOver, rejoinSource, markPromoted }

        public static let kind = Kind.promoteToReplicaSource
        public static let readsSiblingReplicas = true

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .stopSource: .init(timeout: .seconds(60), retry: .init(maxAttempts: 3))
            case .takeOver: .init(timeout: .seconds(120), retry: .init(maxAttempts: 3))
            case .rejoinSource: .init(timeout: .seconds(300), retry: .init(maxAttempts: 3))
            case .markPromoted: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            let instance = facts.instance
            if let reason = unwanted(instance) { return [.cancel(reason: reason)] }
            guard instance.phase == .promoting else { return [] }  // done before a crash
            guard let source = instance.replicaOf else { return [.failPermanently(reason: "instance \(instance.id) is not a replica")] }
            switch step {
            case .stopSource: return [.callGuest(instanceId: source, .stopForSwitchover)]
            case .takeOver: return .act(takeOverReplicas(of: source, by: instance.id, sourceFollows: true, siblings: facts.siblingReplicaIds))
            case .rejoinSource:
                return [
                    .callGuest(instanceId: source, .rejoin(primaryId: instance.id)),
                    .record(.recordReplicationSource(sourceId: instance.id), instanceId: source),
                ]
            case .markPromoted: return [.record(.recordPromoted, instanceId: instance.id)]
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            facts.instance.phase == .promoting ? [.record(.recordFailure(reason: reason), instanceId: facts.instance.id)] : []
        }
    }

    /// `ReplicaSourceEjectionRequested` (`eject_replica_source`: the source is gone or unreachable): the source
    /// is fenced (stopped by its guest, or powered off), this replica is promoted and the other replicas follow
    /// it. The old source stays fenced; delete it, or detach it from nothing.
    public enum EjectReplicaSource: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case fenceSource, takeOver, markEjected }

        public static let kind = Kind.ejectReplicaSource
        public static let readsSiblingReplicas = true

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .fenceSource: .init(timeout: .seconds(30), retry: .init(maxAttempts: 3))
            case .takeOver: .init(timeout: .seconds(120), retry: .init(maxAttempts: 3))
            case .markEjected: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            let instance = facts.instance
            if let reason = unwanted(instance) { return [.cancel(reason: reason)] }
            guard instance.phase == .ejecting else { return [] }
            guard let source = instance.replicaOf else { return [.failPermanently(reason: "instance \(instance.id) is not a replica")] }
            switch step {
            case .fenceSource: return [.fence(instanceId: source)]
            case .takeOver: return .act(takeOverReplicas(of: source, by: instance.id, sourceFollows: false, siblings: facts.siblingReplicaIds))
            case .markEjected: return [.record(.recordSourceEjected, instanceId: instance.id)]
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            facts.instance.phase == .ejecting ? [.record(.recordFailure(reason: reason), instanceId: facts.instance.id)] : []
        }
    }
}

extension Saga {
    /// Trove replication: `newSource` (a replica of `source`) becomes the source of `source`'s other replicas
    /// (`siblings`): it is promoted with a slot for each of them (and for `source` when it is to follow), they
    /// follow it, and each records `ReplicationSourceChanged`. A repeat after a crash finds the siblings that
    /// moved already no longer among the source's replicas, and the guest calls are idempotent.
    static func takeOverReplicas(of source: String, by newSource: String, sourceFollows: Bool, siblings: [String]) -> [Action] {
        let siblings = siblings.filter { $0 != newSource && $0 != source }
        let followers = (sourceFollows ? [source] : []) + siblings
        return [.callGuest(instanceId: newSource, .promote(replicaIds: followers))]
            + (followers.isEmpty ? [] : [.callGuest(instanceId: newSource, .serveReplicas(replicaIds: followers))])
            + siblings.flatMap { sibling -> [Action] in
                [
                    .callGuest(instanceId: sibling, .follow(primaryId: newSource)),
                    .record(.recordReplicationSource(sourceId: newSource), instanceId: sibling),
                ]
            }
    }
}
