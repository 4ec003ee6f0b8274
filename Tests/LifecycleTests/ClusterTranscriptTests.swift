import Foundation
import Lifecycle
import Testing

/// Cluster decide/evolve, one step per line.
@Suite("Cluster transcripts")
struct ClusterTranscriptTests {
    let chart: Statechart
    init() throws { chart = try Charts.cluster }

    static let created: [Cluster.Event] = [.clusterCreateRequested(Samples.clusterSpec)]
    static let active = created + [.clusterBecameActive]

    func state(_ history: [Cluster.Event]) -> Cluster.State { Cluster.replay(history, chart: chart) }

    func decide(_ command: Cluster.Command, given history: [Cluster.Event]) throws(Rejection) -> [Cluster.Event] {
        try Cluster.decide(command, given: history, chart: chart, at: Clock.t1)
    }

    @Test("create, build, task NONE")
    func create() throws {
        let request = Cluster.CreateRequest(
            id: "cl-1", projectId: "proj-1", name: "galera", datastore: Samples.clusterSpec.datastore,
            members: Samples.clusterSpec.members)
        #expect(try Cluster.decide(.create(request), given: [], chart: chart, at: Clock.t0) == Self.created)
        #expect(state(Self.created).task == Cluster.Task(id: 2, name: "BUILDING", description: "Building the initial cluster."))
        #expect(try decide(.recordBecameActive, given: Self.created) == [.clusterBecameActive])
        #expect(state(Self.active).task.name == "NONE")
        #expect(state(Self.active).members.count == 3)
    }

    @Test("grow then shrink")
    func growAndShrink() throws {
        #expect(
            try decide(.grow([Samples.member("m4")]), given: Self.active)
                == [.clusterGrowRequested(.init(members: [Samples.member("m4")]))])
        let growing = Self.active + [.clusterGrowRequested(.init(members: [Samples.member("m4")]))]
        #expect(state(growing).task.name == "GROWING_CLUSTER")
        #expect(state(growing).members.count == 4)
        #expect(
            throws: Rejection.notAllowedInState(
                "Cluster cl-1 is GROWING_CLUSTER (state growing); ClusterRestartRequested is allowed only in NONE (state active)"
            )
        ) { try decide(.restart, given: growing) }
        let grown = growing + [.clusterGrown]
        #expect(
            try decide(.shrink(memberIds: ["m1", "m2"]), given: grown)
                == [.clusterShrinkRequested(.init(memberIds: ["m1", "m2"]))])
        let shrunk = grown + [.clusterShrinkRequested(.init(memberIds: ["m1", "m2"])), .clusterShrunk]
        #expect(state(shrunk).members.map(\.id) == ["m3", "m4"])
        #expect(state(shrunk).task.name == "NONE")
    }

    @Test("shrinks that name strangers or empty the cluster are refused")
    func badShrinks() {
        #expect(throws: Rejection.invalidInput("Instance m9 is not a member of Cluster cl-1")) {
            try decide(.shrink(memberIds: ["m9"]), given: Self.active)
        }
        #expect(
            throws: Rejection.notAllowedInState(
                "Cluster cl-1 is NONE (state active); ClusterShrinkRequested requires keepsAMember"
            )
        ) { try decide(.shrink(memberIds: ["m1", "m2", "m3"]), given: Self.active) }
        #expect(throws: Rejection.invalidInput("A new member has the id of an existing one")) {
            try decide(.grow([Samples.member("m1")]), given: Self.active)
        }
    }

    @Test("a failed task leaves task NONE with the failure; reset or delete")
    func failure() throws {
        let failed = Self.active + [.clusterRestartRequested, .clusterFailed(Failure(reason: "m2 did not rejoin", at: Clock.t1))]
        #expect(state(failed).phase == .error)
        #expect(state(failed).task.name == "NONE")
        #expect(state(failed).failure?.reason == "m2 did not rejoin")
        #expect(try decide(.resetStatus, given: failed) == [.clusterStatusReset])
        #expect(state(failed + [.clusterStatusReset]).failure == nil)
        #expect(throws: Rejection.self) { try decide(.grow([Samples.member("m5")]), given: failed) }
    }

    @Test("delete is allowed again while DELETING")
    func delete() throws {
        let deleting = Self.active + [.clusterDeleteRequested]
        #expect(state(deleting).task.name == "DELETING")
        #expect(try decide(.delete, given: deleting) == [.clusterDeleteRequested])
        let gone = deleting + [.clusterDeleted]
        #expect(throws: Rejection.notFound("Cluster cl-1 could not be found")) { try decide(.delete, given: gone) }
    }

    @Test("configuration and upgrade")
    func configurationAndUpgrade() throws {
        #expect(
            try decide(.attachConfiguration(configurationId: "cfg-1"), given: Self.active)
                == [.clusterConfigurationChangeRequested(.init(configurationId: "cfg-1"))])
        let updating = Self.active + [.clusterConfigurationChangeRequested(.init(configurationId: "cfg-1"))]
        #expect(state(updating).task.name == "UPDATING_CLUSTER")
        #expect(
            try decide(.recordConfigurationChanged, given: updating)
                == [.clusterConfigurationChanged(.init(configurationId: "cfg-1"))])
        #expect(
            try decide(.upgrade(datastoreVersion: "11.8"), given: Self.active)
                == [.clusterUpgradeRequested(.init(datastoreVersion: "11.8"))])
        let upgraded = Self.active + [.clusterUpgradeRequested(.init(datastoreVersion: "11.8")), .clusterUpgraded(.init(datastoreVersion: "11.8"))]
        #expect(state(upgraded).datastore?.version == "11.8")
    }
}
