import Foundation
import Lifecycle
import Testing

/// Trove replicas as pure saga programs: what creating, promoting, ejecting, detaching and deleting a replica
/// ask of the guests and the log. No I/O.
@Suite("Replica saga programs")
struct ReplicaSagaTests {
    let chart: Statechart
    init() throws { chart = try Charts.instance }

    static let spec = Samples.instanceSpec(id: "rep-1", replicaOf: "src-1")
    static let active: [Instance.Event] = [
        .instanceCreateRequested(spec), .computeAllocated(.init(serverId: "srv-2", address: "127.0.3.8")), .guestRegistered, .instanceBecameActive,
    ]

    func actions<Program: SagaProgram>(
        _ program: Program.Type, done steps: [Program.Step] = [], _ history: [Instance.Event],
        siblings: [String] = ["rep-1", "rep-2"]
    ) -> [Saga.Action] {
        let start = Saga.Start(
            saga: program.kind.rawValue, instanceId: "rep-1", triggerStream: "instance-rep-1", triggerVersion: 1,
            triggerType: "InstanceCreateRequested", requestId: "req-1")
        let saga = Saga.replay(
            [.sagaStarted(start)]
                + steps.flatMap { step -> [Saga.Event] in
                    [.stepStarted(.init(step: step.rawValue, attempt: 1)), .stepSucceeded(.init(step: step.rawValue, attempt: 1))]
                })
        let facts = Saga.Facts(
            instance: Instance.replay(history, chart: chart), createSpec: Self.spec, trigger: history.last,
            siblingReplicaIds: siblings)
        if case .run(_, _, .act(let actions)) = Saga.decide(saga, of: program, facts: facts, at: Clock.t1) { return actions }
        return []
    }

    @Test("create: the source serves the replica, then the replica copies it")
    func create() {
        let preparing: [Instance.Event] = Array(Self.active.prefix(3))
        let prepare = actions(
            Saga.CreateInstance.self, done: [.allocateCompute, .recordCompute, .awaitGuestRegistration, .awaitRunningPeer], preparing)
        #expect(prepare.first == .callGuest(instanceId: "src-1", .serveReplicas(replicaIds: ["rep-1"])))
        guard case .callGuest("rep-1", .prepare(let spec, _, _))? = prepare.last else {
            Issue.record("the replica is not prepared after its source serves it: \(prepare)")
            return
        }
        #expect(spec.replicaOf == "src-1")
    }

    @Test("promote: the source stops gracefully, this replica takes over (the source follows), the source rejoins, ReplicaPromoted")
    func promote() {
        let promoting = Self.active + [.replicaPromotionRequested]
        #expect(actions(Saga.PromoteToReplicaSource.self, promoting) == [.callGuest(instanceId: "src-1", .stopForSwitchover)])
        #expect(
            actions(Saga.PromoteToReplicaSource.self, done: [.stopSource], promoting)
                == [
                    .callGuest(instanceId: "rep-1", .promote(replicaIds: ["src-1", "rep-2"])),
                    .callGuest(instanceId: "rep-1", .serveReplicas(replicaIds: ["src-1", "rep-2"])),
                    .callGuest(instanceId: "rep-2", .follow(primaryId: "rep-1")),
                    .record(.recordReplicationSource(sourceId: "rep-1"), instanceId: "rep-2"),
                ])
        // Repeated after a crash, once the sibling has moved: only the old source is left to follow.
        #expect(
            actions(Saga.PromoteToReplicaSource.self, done: [.stopSource], promoting, siblings: ["rep-1"])
                == [
                    .callGuest(instanceId: "rep-1", .promote(replicaIds: ["src-1"])),
                    .callGuest(instanceId: "rep-1", .serveReplicas(replicaIds: ["src-1"])),
                ])
        #expect(
            actions(Saga.PromoteToReplicaSource.self, done: [.stopSource, .takeOver], promoting) == [
                .callGuest(instanceId: "src-1", .rejoin(primaryId: "rep-1")),
                .record(.recordReplicationSource(sourceId: "rep-1"), instanceId: "src-1"),
            ])
        #expect(
            actions(Saga.PromoteToReplicaSource.self, done: [.stopSource, .takeOver, .rejoinSource], promoting)
                == [.record(.recordPromoted, instanceId: "rep-1")])
        let promoted = Instance.replay(promoting + [.replicaPromoted], chart: chart)
        #expect(promoted.phase == .active && promoted.replicaOf == nil)
    }

    @Test("eject: the source is fenced, this replica takes over without it; detach: promote alone, drop the slot; delete drops the slot")
    func ejectDetachDelete() {
        let ejecting = Self.active + [.replicaSourceEjectionRequested]
        #expect(actions(Saga.EjectReplicaSource.self, ejecting) == [.fence(instanceId: "src-1")])
        #expect(
            actions(Saga.EjectReplicaSource.self, done: [.fenceSource], ejecting)
                == [
                    .callGuest(instanceId: "rep-1", .promote(replicaIds: ["rep-2"])),
                    .callGuest(instanceId: "rep-1", .serveReplicas(replicaIds: ["rep-2"])),
                    .callGuest(instanceId: "rep-2", .follow(primaryId: "rep-1")),
                    .record(.recordReplicationSource(sourceId: "rep-1"), instanceId: "rep-2"),
                ])
        #expect(
            actions(Saga.EjectReplicaSource.self, done: [.fenceSource], ejecting, siblings: ["rep-1"])
                == [.callGuest(instanceId: "rep-1", .promote(replicaIds: []))], "no other replica: promoted alone")
        let detaching = Self.active + [.replicaDetachRequested]
        #expect(actions(Saga.DetachReplica.self, detaching) == [.callGuest(instanceId: "rep-1", .promote(replicaIds: []))])
        #expect(
            actions(Saga.DetachReplica.self, done: [.promote], detaching) == [
                .callGuest(instanceId: "src-1", .dropReplicationSlot(replicaId: "rep-1"))
            ])
        #expect(
            actions(Saga.DetachReplica.self, done: [.promote, .dropReplicationSlot], detaching) == [
                .record(.recordReplicaDetached, instanceId: "rep-1")
            ])
        let deleting = Self.active + [.deleteRequested]
        #expect(
            actions(Saga.DeleteInstance.self, done: [.stopDatastore, .releaseCompute], deleting)
                == [.callGuest(instanceId: "src-1", .dropReplicationSlot(replicaId: "rep-1"))])
        let followed = Instance.replay(Self.active + [.replicationSourceChanged(.init(sourceId: "rep-9"))], chart: chart)
        #expect(followed.replicaOf == "rep-9" && followed.phase == .active)
    }
}
