/// The one registry of saga kinds: each kind's program and the events that start it. Every list the task manager
/// and the bus need (programs, triggers, routing keys) is read from it; a new kind is one case here.
extension Saga {
    public enum Kind: String, CaseIterable, Sendable {
        case createInstance = "CreateInstance"
        case deleteInstance = "DeleteInstance"
        case restartInstance = "RestartInstance"
        case resizeFlavor = "ResizeFlavor"
        case resizeVolume = "ResizeVolume"
        case changeGuest = "ChangeGuest"
        case configureInstance = "ConfigureInstance"
        case detachReplica = "DetachReplica"
        case promoteToReplicaSource = "PromoteToReplicaSource"
        case ejectReplicaSource = "EjectReplicaSource"
        case createCluster = "CreateCluster"
        case deleteCluster = "DeleteCluster"
        case growCluster = "GrowCluster"
        case shrinkCluster = "ShrinkCluster"
        case restartCluster = "RestartCluster"
        case changeBalancer = "ChangeBalancer"
        case failOver = "FailOver"
        case rejoinMember = "RejoinMember"
        case applyWeights = "ApplyWeights"
        case createBackup = "CreateBackup"
        case deleteBackup = "DeleteBackup"
        /// The benchmark's saga of empty steps; no product event starts it.
        case noOp = "NoOp"

        /// The pure program of this kind.
        public var program: any SagaProgram.Type {
            switch self {
            case .createInstance: CreateInstance.self
            case .deleteInstance: DeleteInstance.self
            case .restartInstance: RestartInstance.self
            case .resizeFlavor: ResizeFlavor.self
            case .resizeVolume: ResizeVolume.self
            case .changeGuest: ChangeGuest.self
            case .configureInstance: ConfigureInstance.self
            case .detachReplica: DetachReplica.self
            case .promoteToReplicaSource: PromoteToReplicaSource.self
            case .ejectReplicaSource: EjectReplicaSource.self
            case .createCluster: CreateCluster.self
            case .deleteCluster: DeleteCluster.self
            case .growCluster: GrowCluster.self
            case .shrinkCluster: ShrinkCluster.self
            case .restartCluster: RestartCluster.self
            case .changeBalancer: ChangeBalancer.self
            case .failOver: FailOver.self
            case .rejoinMember: RejoinMember.self
            case .applyWeights: ApplyWeights.self
            case .createBackup: CreateBackup.self
            case .deleteBackup: DeleteBackup.self
            case .noOp: NoOp.self
            }
        }

        /// The event types that start this kind (the task manager's queue is bound to these): instance events
        /// start instance sagas, cluster events cluster sagas, a backup's request a saga of its instance.
        public var triggers: [String] {
            switch self {
            case .createInstance: ["InstanceCreateRequested", "BuildRetryRequested"]
            case .deleteInstance: ["DeleteRequested"]
            case .restartInstance: ["RestartRequested"]
            case .resizeFlavor: ["FlavorResizeRequested"]
            case .resizeVolume: ["VolumeResizeRequested"]
            case .changeGuest: ["GuestChangeRequested"]
            case .configureInstance: ["ConfigurationAttached", "ConfigurationUpdated", "ConfigurationDetached"]
            case .detachReplica: ["ReplicaDetachRequested"]
            case .promoteToReplicaSource: ["ReplicaPromotionRequested"]
            case .ejectReplicaSource: ["ReplicaSourceEjectionRequested"]
            case .createCluster: ["ClusterCreateRequested"]
            case .deleteCluster: ["ClusterDeleteRequested"]
            case .growCluster: ["ClusterGrowRequested"]
            case .shrinkCluster: ["ClusterShrinkRequested"]
            case .restartCluster: ["ClusterRestartRequested"]
            case .changeBalancer: ["ClusterBalancerChangeRequested"]
            case .failOver: ["ClusterFailoverStarted"]
            case .rejoinMember: ["ClusterRejoinRequested"]
            case .applyWeights: ["ClusterWeightsChanged"]
            case .createBackup: ["BackupCreateRequested"]
            case .deleteBackup: ["BackupDeleteRequested"]
            case .noOp: []
            }
        }

        /// The product's trigger table: which event type starts which kind.
        public static let triggerTable: [(eventType: String, kind: Kind)] = allCases.flatMap { kind in kind.triggers.map { ($0, kind) } }

        /// The routing keys of the trigger events on the events exchange (`<stream category>.<event type>`).
        public static var triggerRoutingKeys: [String] {
            triggerTable.map { trigger in
                let category =
                    Cluster.Event.eventTypes.contains(trigger.eventType)
                    ? "cluster." : Backup.Event.eventTypes.contains(trigger.eventType) ? "backup." : "instance."
                return category + trigger.eventType
            }
        }
    }
}
