extension Cluster {
    /// `state` after `event`: the chart moves the leaf (guards read `state` and the event), then the event's
    /// data applies. Total: an event the chart refuses here is recorded in `unacceptedEvents` and the leaf kept.
    public static func evolve(_ state: State, _ event: Event, chart: Statechart) -> State {
        var next = state
        advance(&next, from: state, by: event, chart: chart)
        switch event {
        case .clusterCreateRequested(let spec):
            next.id = spec.id
            next.projectId = spec.projectId
            next.name = spec.name
            next.datastore = spec.datastore
            next.members = spec.members
            next.configurationId = spec.configurationId
            next.createdAt = spec.createdAt
            next.chosenAlgorithm = spec.algorithm
            next.locality = spec.locality
            next.synchronousCommits = spec.synchronous
        case .clusterBecameActive, .clusterGrown:
            next.failure = nil
        case .clusterRestartRequested:
            next.restartingMemberId = nil
        case .clusterMemberRestarting(let member):
            next.restartingMemberId = member.memberId
        case .clusterRestarted:
            next.failure = nil
            next.restartingMemberId = nil
        case .clusterGrowRequested(let added):
            next.members += added.members
        case .clusterShrinkRequested(let leaving):
            next.leavingMemberIds = leaving.memberIds
        case .clusterShrunk:
            let leaving = next.leavingMemberIds
            next.members.removeAll { leaving.contains($0.id) }
            next.fencedMemberIds.removeAll { leaving.contains($0) }
            next.leavingMemberIds = []
        case .clusterUpgradeRequested(let change):
            next.pendingDatastoreVersion = change.datastoreVersion
        case .clusterUpgraded(let change):
            next.datastore?.version = change.datastoreVersion
            next.pendingDatastoreVersion = nil
        case .clusterConfigurationChangeRequested(let change), .clusterConfigurationChanged(let change):
            next.configurationId = change.configurationId
        case .clusterFailed(let failure):
            next.failure = failure
            next.failover = nil
            next.leavingMemberIds = []
            next.pendingDatastoreVersion = nil
            next.restartingMemberId = nil
        case .clusterStatusReset:
            next.failure = nil
            next.leavingMemberIds = []
            next.pendingDatastoreVersion = nil
            next.restartingMemberId = nil
        case .clusterBalancerConfigured(let balancer):
            next.balancer = balancer
            next.chosenAlgorithm = balancer.algorithm
        case .clusterBalancerChangeRequested(let change):
            next.chosenAlgorithm = change.algorithm
        case .clusterWeightsChanged(let change):
            for index in next.members.indices {
                if let weight = change.weights[next.members[index].id] { next.members[index].weight = weight }
            }
        case .clusterFailoverStarted(let start):
            next.failover = State.FailoverProgress(lostPrimaryId: start.lostPrimaryId, electedId: nil)
        case .clusterMemberFenced(let fence):
            if !next.fencedMemberIds.contains(fence.memberId) { next.fencedMemberIds.append(fence.memberId) }
        case .clusterPrimaryElected(let election):
            next.failover?.electedId = election.memberId
        case .clusterPrimaryPromoted(let member):
            next.promotedPrimaryId = member.memberId
        case .clusterFailoverCompleted:
            next.failover = nil
            next.failure = nil
        case .clusterMemberRejoined(let member):
            next.fencedMemberIds.removeAll { $0 == member.memberId }
        case .clusterRootEnabled:
            next.rootEnabled = true
        case .clusterDeleteRequested, .clusterDeleted, .clusterReplicasRepointed, .clusterRejoinRequested:
            break
        }
        return next
    }
}
