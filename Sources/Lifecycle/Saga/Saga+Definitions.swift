/// Which event starts which saga; the definitions themselves are the programs' (`InstanceSagas.swift`,
/// `ClusterSagas.swift`).
extension Saga.Definition {
    /// Every saga definition.
    public static let all: [Saga.Definition] = [
        createInstance, deleteInstance, restartInstance, resizeFlavor, resizeVolume, changeGuest, configureInstance, detachReplica,
        promoteToReplicaSource, ejectReplicaSource,
        createCluster, deleteCluster, growCluster, shrinkCluster, restartCluster, changeBalancer, failOver, rejoinMember, applyWeights,
    ]

    /// The events that start a saga, and which (the task manager's queue is bound to these). Instance events
    /// start instance sagas, cluster events cluster sagas.
    public static let triggers: [(eventType: String, saga: Saga.Definition)] = [
        ("InstanceCreateRequested", createInstance), ("BuildRetryRequested", createInstance),
        ("DeleteRequested", deleteInstance), ("RestartRequested", restartInstance),
        ("FlavorResizeRequested", resizeFlavor), ("VolumeResizeRequested", resizeVolume),
        ("GuestChangeRequested", changeGuest),
        ("ConfigurationAttached", configureInstance), ("ConfigurationUpdated", configureInstance),
        ("ConfigurationDetached", configureInstance), ("ReplicaDetachRequested", detachReplica),
        ("ReplicaPromotionRequested", promoteToReplicaSource), ("ReplicaSourceEjectionRequested", ejectReplicaSource),
        ("ClusterCreateRequested", createCluster), ("ClusterDeleteRequested", deleteCluster),
        ("ClusterGrowRequested", growCluster), ("ClusterShrinkRequested", shrinkCluster),
        ("ClusterRestartRequested", restartCluster), ("ClusterBalancerChangeRequested", changeBalancer),
        ("ClusterFailoverStarted", failOver), ("ClusterRejoinRequested", rejoinMember), ("ClusterWeightsChanged", applyWeights),
    ]

    /// The routing keys of the trigger events on the events exchange (`<stream category>.<event type>`).
    public static var triggerRoutingKeys: [String] {
        triggers.map { (Cluster.Event.eventTypes.contains($0.eventType) ? "cluster." : "instance.") + $0.eventType }
    }

    /// The saga an event starts, if any, among `triggers` (the product's unless given: a benchmark adds its own).
    public static func triggered(by eventType: String,
                                 among triggers: [(eventType: String, saga: Saga.Definition)] = Saga.Definition.triggers) -> Saga.Definition? {
        triggers.first { $0.eventType == eventType }?.saga
    }

    /// The definition called `name`, among those `triggers` start (every saga has a trigger).
    public static func named(_ name: String,
                             among triggers: [(eventType: String, saga: Saga.Definition)] = Saga.Definition.triggers) -> Saga.Definition? {
        triggers.first { $0.saga.name == name }?.saga
    }
}
