import Foundation

extension Cluster {
    /// The events `command` produces, checked against the chart first (as Trove checks the state before the
    /// arguments), then validated; throws why it is refused.
    public static func decide(
        _ command: Command, state: State, chart: Statechart, at now: Date
    ) throws(Rejection) -> [Event] {
        if case .create(let request) = command {
            try requireNew(state)
            return try accepted([.clusterCreateRequested(try spec(request, at: now))], in: state, chart: chart)
        }
        try requireExisting(state, chart: chart)
        try validateBeforeChart(command, state: state)
        let events = try accepted(proposedEvents(command, state: state, at: now), in: state, chart: chart)
        try validate(command, state: state)
        return events
    }

    private static func proposedEvents(_ command: Command, state: State, at now: Date) -> [Event] {
        switch command {
        case .create: []  // handled by decide
        case .recordBecameActive: [.clusterBecameActive]
        case .grow(let members): [.clusterGrowRequested(Members(members: members))]
        case .recordGrown: [.clusterGrown]
        case .shrink(let memberIds): [.clusterShrinkRequested(MemberIds(memberIds: memberIds))]
        case .recordShrunk: [.clusterShrunk]
        case .restart: [.clusterRestartRequested]
        case .recordMemberRestarting(let id):
            state.restartingMemberId == id ? [] : [.clusterMemberRestarting(MemberRef(memberId: id))]
        case .recordRestarted: [.clusterRestarted]
        case .upgrade(let version): [.clusterUpgradeRequested(VersionChange(datastoreVersion: version))]
        case .recordUpgraded:
            [
                .clusterUpgraded(
                    VersionChange(
                        datastoreVersion: state.pendingDatastoreVersion ?? state.datastore?.version ?? ""))
            ]
        case .attachConfiguration(let id):
            [.clusterConfigurationChangeRequested(ConfigurationChange(configurationId: id))]
        case .detachConfiguration: [.clusterConfigurationChangeRequested(ConfigurationChange(configurationId: nil))]
        case .recordConfigurationChanged:
            [.clusterConfigurationChanged(ConfigurationChange(configurationId: state.configurationId))]
        case .recordFailure(let reason): [.clusterFailed(Failure(reason: reason, at: now))]
        case .resetStatus: [.clusterStatusReset]
        case .delete: [.clusterDeleteRequested]
        case .recordDeleted: [.clusterDeleted]
        case .recordBalancer(let balancer): state.balancer == balancer ? [] : [.clusterBalancerConfigured(balancer)]
        case .changeBalancer(let algorithm): [.clusterBalancerChangeRequested(BalancerChange(algorithm: algorithm))]
        case .changeWeights(let weights): [.clusterWeightsChanged(Weights(weights: weights))]
        case .startFailover(let lost, let reason): [.clusterFailoverStarted(FailoverStart(lostPrimaryId: lost, reason: reason))]
        case .recordFenced(let id, let how):
            state.fencedMemberIds.contains(id) ? [] : [.clusterMemberFenced(Fence(memberId: id, how: how))]
        case .recordElected(let id, let refusals):
            state.failover?.electedId == id ? [] : [.clusterPrimaryElected(Election(memberId: id, refusals: refusals))]
        case .recordPromoted(let id): state.promotedPrimaryId == id ? [] : [.clusterPrimaryPromoted(MemberRef(memberId: id))]
        case .recordRepointed(let ids): [.clusterReplicasRepointed(MemberIds(memberIds: ids))]
        case .recordFailoverCompleted: [.clusterFailoverCompleted(MemberRef(memberId: state.primaryId ?? ""))]
        case .requestRejoin(let id): [.clusterRejoinRequested(MemberRef(memberId: id))]
        case .recordRejoined(let id): state.fencedMemberIds.contains(id) ? [.clusterMemberRejoined(MemberRef(memberId: id))] : []
        case .recordRootEnabled(let id): [.clusterRootEnabled(RootGrant(memberId: id))]
        }
    }

    /// Checks the chart's guards depend on: a shrink must name members of this cluster.
    private static func validateBeforeChart(_ command: Command, state: State) throws(Rejection) {
        guard case .shrink(let memberIds) = command else { return }
        try require(!memberIds.isEmpty, "A shrink needs at least one member to remove")
        try require(Set(memberIds).count == memberIds.count, "A shrink names each member once")
        for id in memberIds {
            try require(state.members.contains { $0.id == id }, "Instance \(id) is not a member of \(state.subject)")
        }
        if state.strategy == .activePassive, let primary = state.primaryId, memberIds.contains(primary) {
            throw .invalidInput("Instance \(primary) is the primary of \(state.subject): a shrink removes replicas only")
        }
    }

    /// The arguments' checks, once the chart has accepted the command's events.
    private static func validate(_ command: Command, state: State) throws(Rejection) {
        switch command {
        case .grow(let members):
            try require(!members.isEmpty, "A grow needs at least one new member")
            try validate(members, existing: state.members)
        case .upgrade(let version):
            try require(!version.isEmpty, "The datastore version must not be empty")
            try require(version != state.datastore?.version, "The cluster already runs datastore version \(version)")
        case .attachConfiguration(let configurationId):
            try require(!configurationId.isEmpty, "The configuration id must not be empty")
            if let attached = state.configurationId {
                throw .notAllowedInState("\(state.subject) already has configuration \(attached) attached; detach it first")
            }
        case .detachConfiguration:
            if state.configurationId == nil { throw .notAllowedInState("\(state.subject) has no configuration attached") }
        case .recordFailure(let reason):
            try require(!reason.isEmpty, "A failure needs a reason")
        case .changeBalancer(let algorithm):
            if state.algorithm == algorithm { throw .invalidInput("\(state.subject) already balances with \(algorithm.rawValue)") }
        case .changeWeights(let weights):
            try require(state.strategy == .activePassive, "Only active-passive clusters have promotion weights")
            try require(!weights.isEmpty, "Give at least one member's weight")
            for (id, weight) in weights {
                try require(state.members.contains { $0.id == id }, "Instance \(id) is not a member of \(state.subject)")
                try require((0...1000).contains(weight), "A weight is an integer from 0 to 1000, not \(weight)")
            }
        case .startFailover(let lost, _):
            try require(state.strategy == .activePassive, "Only active-passive clusters fail over")
            try require(lost == state.primaryId, "Instance \(lost) is not the primary of \(state.subject)")
        case .recordElected(let id, _), .recordPromoted(let id), .requestRejoin(let id), .recordRootEnabled(let id),
            .recordMemberRestarting(let id):
            try require(state.members.contains { $0.id == id }, "Instance \(id) is not a member of \(state.subject)")
        case .recordRepointed, .recordFailoverCompleted, .recordFenced, .recordRejoined:
            break
        case .create, .recordBecameActive, .recordGrown, .shrink, .recordShrunk, .restart, .recordRestarted,
            .recordUpgraded, .recordConfigurationChanged, .resetStatus, .delete, .recordDeleted, .recordBalancer:
            break
        }
    }

    private static func spec(_ request: CreateRequest, at now: Date) throws(Rejection) -> Spec {
        let name = request.name.trimmingCharacters(in: .whitespacesAndNewlines)
        try require(!request.id.isEmpty && !request.projectId.isEmpty, "The cluster and project ids must not be empty")
        try require(!name.isEmpty, "The cluster name must not be empty")
        try require(name.count <= 255, "The cluster name must be at most 255 characters")
        try require(
            !request.datastore.type.isEmpty && !request.datastore.version.isEmpty,
            "The datastore type and version must not be empty")
        try require(!request.members.isEmpty, "A cluster needs at least one instance")
        try validate(request.members, existing: [])
        return Spec(
            id: request.id, projectId: request.projectId, name: name, datastore: request.datastore,
            members: request.members, configurationId: request.configurationId, algorithm: request.algorithm, locality: request.locality,
            synchronous: request.synchronous, createdAt: now)
    }

    private static func validate(_ members: [Member], existing: [Member]) throws(Rejection) {
        let ids = members.map(\.id)
        try require(ids.allSatisfy { !$0.isEmpty }, "Every member needs an id")
        try require(Set(ids).count == ids.count, "Member ids must be unique")
        try require(!existing.contains { ids.contains($0.id) }, "A new member has the id of an existing one")
        for member in members {
            try require((0...1000).contains(member.promotionWeight), "A weight is an integer from 0 to 1000, not \(member.promotionWeight)")
            try require(!member.flavorId.isEmpty, "Member \(member.id) needs a flavor (flavorRef)")
            try require(member.volumeSize > 0, "Member \(member.id) needs a volume size greater than 0 GB")
        }
    }
}
