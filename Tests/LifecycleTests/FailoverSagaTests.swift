import Foundation
import Lifecycle
import Testing

/// Active-passive clusters as pure values: the chart's failover states, what a failing-over cluster refuses, and
/// the failover and rejoin sagas' typed actions step by step. No I/O.
@Suite("Active-passive failover: chart and saga programs")
struct FailoverSagaTests {
    let chart: Statechart
    let instanceChart: Statechart
    init() throws {
        chart = try Charts.cluster
        instanceChart = try Charts.instance
    }

    static let spec = Cluster.Spec(
        id: "pg-1", projectId: "proj-1", name: "pg", datastore: Datastore(type: "postgresql", version: "15", manager: "postgresql"),
        members: [
            Cluster.Member(id: "p1", name: "pg-1", flavorId: "2", volumeSize: 1, type: "replica", weight: 100),
            Cluster.Member(id: "p2", name: "pg-2", flavorId: "2", volumeSize: 1, type: "replica", weight: 50),
            Cluster.Member(id: "p3", name: "pg-3", flavorId: "2", volumeSize: 1, type: "replica", weight: 10),
        ],
        configurationId: nil, synchronous: true, createdAt: Clock.t0)
    static let active: [Cluster.Event] = [.clusterCreateRequested(spec), .clusterBecameActive]
    static let started = Cluster.Event.clusterFailoverStarted(.init(lostPrimaryId: "p1", reason: "the primary reports crashed"))

    func state(_ history: [Cluster.Event]) -> Cluster.State { Cluster.replay(history, chart: chart) }

    func actions<Program: SagaProgram>(
        _ program: Program.Type, done steps: [Program.Step] = [], results: [Program.Step: Saga.StepResult] = [:],
        _ history: [Cluster.Event], trigger: Cluster.Event? = nil
    ) -> [Saga.Action] {
        let start = Saga.Start(
            saga: program.kind.rawValue, instanceId: "", clusterId: "pg-1", triggerStream: "cluster-pg-1", triggerVersion: 3,
            triggerType: "ClusterFailoverStarted", requestId: nil)
        let saga = Saga.replay(
            [.sagaStarted(start)]
                + steps.flatMap { step -> [Saga.Event] in
                    [
                        .stepStarted(.init(step: step.rawValue, attempt: 1)),
                        .stepSucceeded(.init(step: step.rawValue, attempt: 1, result: results[step])),
                    ]
                })
        let facts = Saga.Facts(instance: Instance.State(chart: instanceChart), cluster: state(history), clusterTrigger: trigger ?? history.last)
        if case .run(_, _, .act(let actions)) = Saga.decide(saga, of: program, facts: facts, at: Clock.t1) { return actions }
        return []
    }

    @Test("members of a PostgreSQL cluster: the first is the primary, the others replicate from it, with the cluster's sync mode")
    func members() {
        let created = [Cluster.Event.clusterCreateRequested(Self.spec)]
        let creations = actions(Saga.CreateCluster.self, done: [.leaseAddresses], created)
        let memberships = creations.compactMap { action -> Instance.ClusterMembership? in
            if case .createInstance(let request) = action { return request.cluster }
            return nil
        }
        #expect(memberships.map(\.seed) == [true, false, false])
        #expect(memberships.map(\.source) == [nil, "p1", "p1"])
        #expect(memberships.allSatisfy { $0.synchronous == true })
        #expect(state(created).primaryId == "p1" && state(created).replicaIds == ["p2", "p3"])
    }

    @Test("a failover, step by step: fence, record how, elect, promote, re-point, task NONE; the roles follow")
    func failover() {
        var history = Self.active + [Self.started]
        #expect(state(history).phase == .failingOver && state(history).task.name == "FAILING_OVER")
        #expect(actions(Saga.FailOver.self, history) == [.fence(instanceId: "p1")])
        let fenced: [Saga.FailOver.Step: Saga.StepResult] = [.fence: .fenced(how: "stopped by its guest")]
        #expect(
            actions(Saga.FailOver.self, done: [.fence], results: fenced, history)
                == [.recordCluster(.recordFenced(memberId: "p1", how: "stopped by its guest"), clusterId: "pg-1")])
        if case .failPermanently? = actions(Saga.FailOver.self, done: [.fence], history).first {
        } else {
            Issue.record("a fence step without its result must not record a fence")
        }
        history.append(.clusterMemberFenced(.init(memberId: "p1", how: "stopped by its guest")))
        #expect(actions(Saga.FailOver.self, history) == [], "fenced before a crash: not fenced again")
        #expect(actions(Saga.FailOver.self, done: [.fence], history) == [], "recorded before a crash")
        #expect(actions(Saga.FailOver.self, done: [.fence, .recordFence], history) == [.electPrimary(clusterId: "pg-1")])
        history.append(.clusterPrimaryElected(.init(memberId: "p2", refusals: ["p3 lags 4096 bytes"])))
        #expect(
            actions(Saga.FailOver.self, done: [.fence, .recordFence, .elect], history)
                == [
                    .callGuest(instanceId: "p2", .promote(replicaIds: ["p1", "p3"])),
                    .recordCluster(.recordPromoted(memberId: "p2"), clusterId: "pg-1"),
                ])
        history.append(.clusterPrimaryPromoted(.init(memberId: "p2")))
        #expect(state(history).primaryId == "p2" && state(history).role(of: "p1") == "fenced" && state(history).replicaIds == ["p3"])
        #expect(
            actions(Saga.FailOver.self, done: [.fence, .recordFence, .elect, .promote], history)
                == [.callGuest(instanceId: "p3", .follow(primaryId: "p2")), .recordCluster(.recordRepointed(memberIds: ["p3"]), clusterId: "pg-1")])
        history.append(.clusterReplicasRepointed(.init(memberIds: ["p3"])))
        #expect(
            actions(Saga.FailOver.self, done: [.fence, .recordFence, .elect, .promote, .repoint], history)
                == [.recordCluster(.recordFailoverCompleted, clusterId: "pg-1")])
        history.append(.clusterFailoverCompleted(.init(memberId: "p2")))
        #expect(state(history).phase == .active && state(history).failover == nil && state(history).task.name == "NONE")
        #expect(state(history).unacceptedEvents.isEmpty)
    }

    @Test("nobody promotable: the failover fails and the cluster shows why; a failover after a crash finds its decision kept")
    func failure() throws {
        let history = Self.active + [Self.started, .clusterMemberFenced(.init(memberId: "p1", how: "powered off"))]
        let facts = Saga.Facts(instance: Instance.State(chart: instanceChart), cluster: state(history), clusterTrigger: Self.started)
        #expect(
            Saga.FailOver.failure(reason: "no replica can be promoted: p2 is not healthy", facts)
                == [.recordCluster(.recordFailure(reason: "failover failed: no replica can be promoted: p2 is not healthy"), clusterId: "pg-1")])
        let failed = history + [Cluster.Event.clusterFailed(Failure(reason: "failover failed", at: Clock.t1))]
        #expect(state(failed).phase == .error && state(failed).failover == nil && state(failed).role(of: "p1") == "fenced")
        let elected = history + [.clusterPrimaryElected(.init(memberId: "p2", refusals: []))]
        #expect(try Cluster.decide(.recordElected(memberId: "p2", refusals: []), state: state(elected), chart: chart, at: Clock.t1).isEmpty)
    }

    @Test("while failing over the cluster refuses grow, shrink, restart and another failover; delete and weights are taken")
    func refusals() throws {
        let failing = state(Self.active + [Self.started])
        for command in [
            Cluster.Command.grow([Samples.member("p4")]), .shrink(memberIds: ["p3"]), .restart,
            .startFailover(lostPrimaryId: "p1", reason: "again"), .changeBalancer(.leastconn),
        ] {
            #expect(throws: Rejection.self, "\(command)") { try Cluster.decide(command, state: failing, chart: chart, at: Clock.t1) }
        }
        #expect(try Cluster.decide(.changeWeights(["p3": 0]), state: failing, chart: chart, at: Clock.t1).count == 1)
        #expect(try Cluster.decide(.delete, state: failing, chart: chart, at: Clock.t1) == [.clusterDeleteRequested])
    }

    @Test("weights: changed on a running cluster, 0 to 1000 only, members only; the primary is never shrunk away")
    func weights() throws {
        let active = state(Self.active)
        let changed = try Cluster.decide(.changeWeights(["p3": 200]), state: active, chart: chart, at: Clock.t1)
        #expect(Cluster.replay(Self.active + changed, chart: chart).members.map(\.promotionWeight) == [100, 50, 200])
        #expect(throws: Rejection.self) { try Cluster.decide(.changeWeights(["p3": 1001]), state: active, chart: chart, at: Clock.t1) }
        #expect(throws: Rejection.self) { try Cluster.decide(.changeWeights(["nobody": 1]), state: active, chart: chart, at: Clock.t1) }
        #expect(throws: Rejection.self) { try Cluster.decide(.shrink(memberIds: ["p1"]), state: active, chart: chart, at: Clock.t1) }
        #expect(throws: Rejection.self) {
            try Cluster.decide(.startFailover(lostPrimaryId: "p2", reason: "not the primary"), state: active, chart: chart, at: Clock.t1)
        }
        // A synchronous primary is told the new order of its standbys (the promote call of a primary only orders them).
        #expect(
            actions(Saga.ApplyWeights.self, Self.active + changed, trigger: changed.first)
                == [.callGuest(instanceId: "p1", .promote(replicaIds: ["p2", "p3"]))])
        let galera = Cluster.replay([.clusterCreateRequested(Samples.clusterSpec), .clusterBecameActive], chart: chart)
        #expect(throws: Rejection.self) { try Cluster.decide(.changeWeights(["m1": 5]), state: galera, chart: chart, at: Clock.t1) }
    }

    @Test("a fenced member whose guest answers rejoins from a fresh copy of the new primary")
    func rejoin() {
        var history =
            Self.active + [
                Self.started, .clusterMemberFenced(.init(memberId: "p1", how: "stopped by its guest")),
                .clusterPrimaryElected(.init(memberId: "p2", refusals: [])), .clusterPrimaryPromoted(.init(memberId: "p2")),
                .clusterReplicasRepointed(.init(memberIds: ["p3"])), .clusterFailoverCompleted(.init(memberId: "p2")),
            ]
        let requested = Cluster.Event.clusterRejoinRequested(.init(memberId: "p1"))
        history.append(requested)
        #expect(state(history).phase == .rejoining)
        #expect(actions(Saga.RejoinMember.self, history, trigger: requested) == [.callGuest(instanceId: "p1", .rejoin(primaryId: "p2"))])
        #expect(
            actions(Saga.RejoinMember.self, done: [.rejoin], history, trigger: requested)
                == [.recordCluster(.recordRejoined(memberId: "p1"), clusterId: "pg-1")])
        history.append(.clusterMemberRejoined(.init(memberId: "p1")))
        #expect(state(history).phase == .active && state(history).role(of: "p1") == "replica" && state(history).replicaIds == ["p1", "p3"])
    }
}
