import Foundation
import Lifecycle
import Testing

/// The cluster sagas as pure programs: for a saga's history and its cluster's folded state, the typed actions the
/// task manager's interpreter gets. A cluster saga works on members through their own streams. No I/O.
@Suite("Cluster saga programs")
struct ClusterSagaTests {
    let chart: Statechart
    let instanceChart: Statechart
    init() throws {
        chart = try Charts.cluster
        instanceChart = try Charts.instance
    }

    static let created: [Cluster.Event] = [.clusterCreateRequested(Samples.clusterSpec)]
    static let ids = ["m1", "m2", "m3"]
    static let datastore = Samples.clusterSpec.datastore

    func facts(_ history: [Cluster.Event], trigger: Cluster.Event? = nil) -> Saga.Facts {
        Saga.Facts(
            instance: Instance.State(chart: instanceChart), cluster: Cluster.replay(history, chart: chart),
            clusterTrigger: trigger ?? history.last)
    }

    func decide<Program: SagaProgram>(_ program: Program.Type, done steps: [Program.Step] = [], _ facts: Saga.Facts) -> Saga.Decision<Program> {
        let start = Saga.Start(
            saga: program.kind.rawValue, instanceId: "", clusterId: "cl-1", triggerStream: "cluster-cl-1", triggerVersion: 1,
            triggerType: "ClusterCreateRequested", requestId: "req-1")
        let state = Saga.replay(
            [.sagaStarted(start)]
                + steps.flatMap { step -> [Saga.Event] in
                    [.stepStarted(.init(step: step.rawValue, attempt: 1)), .stepSucceeded(.init(step: step.rawValue, attempt: 1))]
                })
        return Saga.decide(state, of: program, facts: facts, at: Clock.t1)
    }

    /// The step's work (none when the decision is not to run a step).
    func work<Program>(_ decision: Saga.Decision<Program>) -> Saga.StepWork? {
        if case .run(_, _, let work) = decision { return work }
        return nil
    }

    /// The step's actions (none when it waits).
    func actions<Program>(_ decision: Saga.Decision<Program>) -> [Saga.Action] {
        if case .act(let actions)? = work(decision) { return actions }
        return []
    }

    @Test("create: addresses for every member first, then the members (the first seeds), wait, balancer, task NONE")
    func create() {
        let create = Saga.CreateCluster.self
        #expect(actions(decide(create, facts(Self.created))) == [.leaseAddresses(instanceIds: Self.ids, datastore: Self.datastore)])
        let members = actions(decide(create, done: [.leaseAddresses], facts(Self.created)))
        #expect(members.count == 3)
        for (index, action) in members.enumerated() {
            guard case .createInstance(let request) = action else {
                Issue.record("not a member creation: \(action)")
                continue
            }
            #expect(request.id == Self.ids[index] && request.name == "galera-\(Self.ids[index])" && request.projectId == "proj-1")
            #expect(request.cluster == Instance.ClusterMembership(clusterId: "cl-1", peers: Self.ids, seed: index == 0))
            #expect(request.databases.isEmpty && request.users.isEmpty)
        }
        #expect(
            work(decide(create, done: [.leaseAddresses, .createMembers], facts(Self.created)))
                == .await(.instances(instanceIds: Self.ids, .allActive, clusterId: "cl-1")))
        #expect(
            actions(decide(create, done: [.leaseAddresses, .createMembers, .awaitMembers], facts(Self.created)))
                == [.configureBalancer(clusterId: "cl-1", datastore: Self.datastore, algorithm: .roundrobin, memberIds: Self.ids)])
        #expect(
            actions(decide(create, done: [.leaseAddresses, .createMembers, .awaitMembers, .startBalancer], facts(Self.created)))
                == [.recordCluster(.recordBecameActive, clusterId: "cl-1")])
        #expect(
            Saga.CreateCluster.failure(reason: "member m2 failed", facts(Self.created))
                == [.recordCluster(.recordFailure(reason: "member m2 failed"), clusterId: "cl-1")])
    }

    @Test("a cluster being deleted cancels its other sagas; the delete stops the balancer, then the members, then frees addresses")
    func delete() {
        let deleting = Self.created + [.clusterDeleteRequested]
        guard case .cancel? = actions(decide(Saga.CreateCluster.self, done: [.leaseAddresses], facts(deleting))).first else {
            Issue.record("the build of a cluster being deleted goes on")
            return
        }
        #expect(actions(decide(Saga.DeleteCluster.self, facts(deleting))) == [.removeBalancer(clusterId: "cl-1")])
        #expect(
            actions(decide(Saga.DeleteCluster.self, done: [.removeBalancer], facts(deleting))) == Self.ids.map { .deleteInstance(instanceId: $0) })
        #expect(
            work(decide(Saga.DeleteCluster.self, done: [.removeBalancer, .deleteMembers], facts(deleting)))
                == .await(.instances(instanceIds: Self.ids, .allGone, clusterId: nil)))
        #expect(
            actions(decide(Saga.DeleteCluster.self, done: [.removeBalancer, .deleteMembers, .awaitMembersGone], facts(deleting)))
                == [.releaseAddresses(instanceIds: Self.ids), .recordCluster(.recordDeleted, clusterId: "cl-1")])
    }

    @Test("grow joins new members to the running ones; shrink takes members out of the balancer before deleting them")
    func growAndShrink() {
        let active = Self.created + [.clusterBecameActive]
        let grow = Cluster.Event.clusterGrowRequested(.init(members: [Samples.member("m4")]))
        let growing = facts(active + [grow], trigger: grow)
        #expect(actions(decide(Saga.GrowCluster.self, growing)) == [.leaseAddresses(instanceIds: ["m4"], datastore: Self.datastore)])
        guard case .createInstance(let request)? = actions(decide(Saga.GrowCluster.self, done: [.leaseAddresses], growing)).first else {
            Issue.record("grow creates no member")
            return
        }
        #expect(request.cluster == Instance.ClusterMembership(clusterId: "cl-1", peers: Self.ids + ["m4"], seed: false))
        #expect(
            actions(decide(Saga.GrowCluster.self, done: [.leaseAddresses, .createMembers, .awaitMembers], growing))
                == [.configureBalancer(clusterId: "cl-1", datastore: Self.datastore, algorithm: .roundrobin, memberIds: Self.ids + ["m4"])])

        let shrink = Cluster.Event.clusterShrinkRequested(.init(memberIds: ["m1"]))
        let shrinking = facts(active + [shrink], trigger: shrink)
        #expect(
            actions(decide(Saga.ShrinkCluster.self, shrinking))
                == [.configureBalancer(clusterId: "cl-1", datastore: Self.datastore, algorithm: .roundrobin, memberIds: ["m2", "m3"])])
        #expect(actions(decide(Saga.ShrinkCluster.self, done: [.reconfigureBalancer], shrinking)) == [.deleteInstance(instanceId: "m1")])
        #expect(
            actions(decide(Saga.ShrinkCluster.self, done: [.reconfigureBalancer, .deleteMembers, .awaitMembersGone], shrinking))
                == [.releaseAddresses(instanceIds: ["m1"]), .recordCluster(.recordShrunk, clusterId: "cl-1")])
        #expect(
            actions(decide(Saga.GrowCluster.self, facts(active, trigger: .clusterRestartRequested)))
                == [.failPermanently(reason: "GrowCluster was not started by a ClusterGrowRequested")])
    }

    @Test("a rolling restart asks one member to restart and waits until it is ACTIVE again before the next")
    func rollingRestart() {
        let restartRequested = Self.created + [.clusterBecameActive, .clusterRestartRequested]
        let wait = Saga.Wait.rollingRestart(clusterId: "cl-1", memberIds: Self.ids)
        #expect(work(decide(Saga.RestartCluster.self, facts(restartRequested))) == .await(wait))
        #expect(wait.streams == ["cluster-cl-1", "instance-m1", "instance-m2", "instance-m3"])

        func member(_ id: String, _ leaf: String, _ status: String) -> Instance.State {
            var state = Instance.State(chart: instanceChart)
            (state.id, state.leaf, state.status, state.version) = (id, leaf, status, 5)
            return state
        }
        let active = Self.ids.map { member($0, "active", "ACTIVE") }
        func progress(restarting: String?, _ members: [Instance.State], deleting: Bool = false) -> Saga.Progress {
            let events: [Cluster.Event] =
                restartRequested + (restarting.map { [.clusterMemberRestarting(.init(memberId: $0))] } ?? [])
                + (deleting ? [.clusterDeleteRequested] : [])
            return wait.progress(instances: members, clusters: [Cluster.replay(events, chart: chart)])
        }
        func restart(_ id: String) -> Saga.Progress {
            .act([.restartInstance(instanceId: id), .recordCluster(.recordMemberRestarting(instanceId: id), clusterId: "cl-1")])
        }
        #expect(progress(restarting: nil, active) == restart("m1"))
        #expect(progress(restarting: "m1", [member("m1", "rebooting", "REBOOT")] + active.dropFirst()) == .waiting)
        #expect(progress(restarting: "m1", active) == restart("m2"), "m1 is ACTIVE again")
        #expect(progress(restarting: "m3", active) == .met)
        var failed = active
        failed[1] = member("m2", "error", "ERROR")
        #expect(progress(restarting: "m2", failed) == .failed(reason: "member m2 failed: ERROR"))
        guard case .cancelled? = Optional(progress(restarting: "m1", active, deleting: true)) else {
            Issue.record("the restart of a cluster being deleted goes on")
            return
        }
    }

    @Test("a member that joins waits for a running member before it prepares; the seed does not wait")
    func membersJoin() {
        let spec = { (seed: Bool, id: String) in
            Instance.Spec(
                id: id, projectId: "proj-1", name: id, flavorId: "1", volumeSize: 1, datastore: Self.datastore, databases: [],
                users: [], configurationId: nil, replicaOf: nil,
                cluster: Instance.ClusterMembership(clusterId: "cl-1", peers: Self.ids, seed: seed), createdAt: Clock.t0)
        }
        for (id, seed) in [("m1", true), ("m2", false)] {
            let history: [Instance.Event] = [
                .instanceCreateRequested(spec(seed, id)), .computeAllocated(.init(serverId: "s", address: "127.0.0.\(seed ? 1 : 2)")),
                .guestRegistered,
            ]
            let facts = Saga.Facts(instance: Instance.replay(history, chart: instanceChart), createSpec: spec(seed, id), trigger: history.first)
            let prepare = Saga.Action.callGuest(instanceId: id, .prepare(spec(seed, id), volumeSizeGB: 1, configurationValues: nil))
            let registered: [Saga.CreateInstance.Step] = [.allocateCompute, .recordCompute, .awaitGuestRegistration]
            let expected: Saga.StepWork = seed ? [] : .await(.instances(instanceIds: ["m1", "m3"], .anyActive, clusterId: "cl-1"))
            #expect(work(decide(Saga.CreateInstance.self, done: registered, facts)) == expected)
            #expect(actions(decide(Saga.CreateInstance.self, done: registered + [.awaitRunningPeer], facts)) == [prepare])
        }
    }

    @Test("members conditions: ACTIVE for all, one failing fails the wait, a missing member counts as gone")
    func conditions() {
        let building = Instance.State(chart: instanceChart)
        var active = building
        active.status = "ACTIVE"
        active.leaf = "active"
        active.version = 4
        var failed = building
        failed.id = "m2"
        failed.status = "ERROR"
        #expect(Saga.MembersCondition.allActive.evaluate([active, active]) == .met)
        #expect(Saga.MembersCondition.allActive.evaluate([active, building]) == .waiting)
        #expect(Saga.MembersCondition.allActive.evaluate([active, failed]) == .failed(reason: "member m2 failed: ERROR"))
        #expect(Saga.MembersCondition.anyActive.evaluate([building, active]) == .met)
        #expect(Saga.MembersCondition.allGone.evaluate([building]) == .met, "never created")
        #expect(Saga.MembersCondition.allGone.evaluate([active]) == .waiting)
    }
}
