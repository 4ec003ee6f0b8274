import Foundation
import Lifecycle
import Testing

/// The instance sagas as pure programs: for a saga's history and its instance's folded state, the typed actions
/// `Saga.decide` hands the task manager's interpreter. No I/O.
@Suite("Saga programs")
struct SagaProgramTests {
    let chart: Statechart
    init() throws { chart = try Charts.instance }

    static let spec = Samples.instanceSpec()
    static let created: [Instance.Event] = [.instanceCreateRequested(spec)]
    static let allocated = created + [.computeAllocated(.init(serverId: "srv-1", address: "127.0.3.7"))]
    static let registered = allocated + [.guestRegistered]
    static let active = registered + [.instanceBecameActive]

    func facts(_ history: [Instance.Event], trigger: Instance.Event? = nil) -> Saga.Facts {
        Saga.Facts(instance: Instance.replay(history, chart: chart), createSpec: Self.spec, trigger: trigger ?? history.first)
    }

    static func saga<Program: SagaProgram>(
        _ program: Program.Type, done steps: [Program.Step] = [],
        results: [Program.Step: Saga.StepResult] = [:]
    ) -> Saga.State {
        let start = Saga.Start(
            saga: program.kind.rawValue, instanceId: "inst-1", triggerStream: "instance-inst-1", triggerVersion: 1,
            triggerType: "InstanceCreateRequested", requestId: "req-1")
        return Saga.replay(
            [.sagaStarted(start)]
                + steps.flatMap { step -> [Saga.Event] in
                    [
                        .stepStarted(.init(step: step.rawValue, attempt: 1)),
                        .stepSucceeded(.init(step: step.rawValue, attempt: 1, result: results[step])),
                    ]
                })
    }

    func decide<Program: SagaProgram>(
        _ program: Program.Type, done steps: [Program.Step] = [], results: [Program.Step: Saga.StepResult] = [:],
        _ facts: Saga.Facts
    ) -> Saga.Decision<Program> {
        Saga.decide(Self.saga(program, done: steps, results: results), of: program, facts: facts, at: Clock.t1)
    }

    @Test("CreateInstance: allocate, wait for the guest, prepare with the create request, forget the secrets and mark ACTIVE")
    func createInstance() {
        let create = Saga.CreateInstance.self
        #expect(
            decide(create, facts(Self.created))
                == .run(
                    step: .allocateCompute, attempt: 1,
                    work: [
                        .allocateCompute(instanceId: "inst-1", datastore: Samples.postgres)
                    ]))
        // The started server is the allocation's result; the next step records it on the instance.
        let started: [Saga.CreateInstance.Step: Saga.StepResult] = [.allocateCompute: .server(serverId: "srv-1", address: "127.0.3.7")]
        #expect(
            decide(create, done: [.allocateCompute], results: started, facts(Self.created))
                == .run(
                    step: .recordCompute, attempt: 1,
                    work: [
                        .record(.recordComputeAllocated(serverId: "srv-1", address: "127.0.3.7"), instanceId: "inst-1")
                    ]))
        #expect(
            decide(create, done: [.allocateCompute], facts(Self.allocated)) == .run(step: .recordCompute, attempt: 1, work: []),
            "recorded before a crash")
        #expect(
            decide(create, done: [.allocateCompute, .recordCompute], facts(Self.allocated))
                == .run(
                    step: .awaitGuestRegistration, attempt: 1,
                    work: .await(.instance(instanceId: "inst-1", .guestRegistered))))
        #expect(Saga.InstanceCondition.guestRegistered.evaluate(facts(Self.allocated).instance) == .waiting)
        #expect(Saga.InstanceCondition.guestRegistered.evaluate(facts(Self.registered).instance) == .met)
        #expect(
            decide(create, done: [.allocateCompute, .recordCompute, .awaitGuestRegistration], facts(Self.registered))
                == .run(step: .awaitRunningPeer, attempt: 1, work: []), "not a cluster member: no peer to wait for")
        let registered: [Saga.CreateInstance.Step] = [.allocateCompute, .recordCompute, .awaitGuestRegistration, .awaitRunningPeer]
        let prepare = decide(create, done: registered, facts(Self.registered))
        #expect(
            prepare
                == .run(
                    step: .prepareDatastore, attempt: 1,
                    work: [
                        .callGuest(instanceId: "inst-1", .prepare(Self.spec, volumeSizeGB: 2, configurationValues: nil))
                    ]))
        // A crash after the guest prepared and ACTIVE was recorded: the steps have nothing left to do.
        #expect(
            decide(create, done: registered, facts(Self.active))
                == .run(step: .prepareDatastore, attempt: 1, work: []))
        #expect(
            decide(create, done: registered + [.prepareDatastore], facts(Self.registered))
                == .run(
                    step: .markActive, attempt: 1,
                    work: [
                        .forgetSecrets(instanceId: "inst-1", .all), .record(.recordBecameActive, instanceId: "inst-1"),
                    ]))
    }

    @Test("CreateInstance: a delete stops the build; a failure releases compute and shows ERROR unless a delete took over")
    func createInstanceEnds() {
        let create = Saga.CreateInstance.self
        let deleting = Self.allocated + [.deleteRequested]
        guard case .run(_, _, .act(let actions)) = decide(create, facts(deleting)), case .cancel? = actions.first else {
            Issue.record("a build of an instance being deleted is not cancelled")
            return
        }
        #expect(actions.count == 1, "the server is the delete saga's to release: \(actions)")
        // Deleted after a server was started but before it was recorded: the record step cancels too.
        let started: [Saga.CreateInstance.Step: Saga.StepResult] = [.allocateCompute: .server(serverId: "srv-1", address: "127.0.3.7")]
        guard
            case .run(.recordCompute, 1, .act(let early)) = decide(
                create, done: [.allocateCompute], results: started,
                facts(Self.created + [.deleteRequested])),
            early.count == 1, case .cancel? = early.first
        else {
            Issue.record("a build deleted before its server was recorded is not cancelled")
            return
        }
        var failed = Self.saga(create, done: [.allocateCompute])
        failed = Saga.evolve(failed, .stepStarted(.init(step: "awaitGuestRegistration", attempt: 1)))
        failed = Saga.evolve(failed, .stepFailed(.init(step: "awaitGuestRegistration", attempt: 1, reason: "no heartbeat", retryAt: nil)))
        #expect(
            Saga.decide(failed, of: create, facts: facts(Self.allocated), at: Clock.t1)
                == .compensate(step: .allocateCompute, compensation: .releaseCompute, attempt: 1, actions: [.releaseCompute(instanceId: "inst-1")]))
        failed = Saga.evolve(failed, .compensationSucceeded(.init(step: "releaseCompute", attempt: 1)))
        #expect(
            Saga.decide(failed, of: create, facts: facts(Self.allocated), at: Clock.t1)
                == .fail(reason: "no heartbeat", actions: [.record(.recordFailure(reason: "no heartbeat"), instanceId: "inst-1")]))
        #expect(Saga.decide(failed, of: create, facts: facts(deleting), at: Clock.t1) == .fail(reason: "no heartbeat", actions: []))
    }

    @Test("ChangeGuest: the trigger's change goes to the guest; its passwords are forgotten whatever the outcome")
    func changeGuest() {
        let change = Instance.GuestChange.createUsers([.init(name: "bob", host: "%", databases: [], passwordSet: true)])
        let requested = Instance.Event.guestChangeRequested(change)
        let history = Self.active + [requested]
        let definition = Saga.ChangeGuest.self
        #expect(
            decide(definition, facts(history, trigger: requested))
                == .run(step: .applyOnGuest, attempt: 1, work: [.callGuest(instanceId: "inst-1", .applyChange(change))]))
        #expect(
            decide(definition, done: [.applyOnGuest], facts(history, trigger: requested))
                == .run(
                    step: .recordApplied, attempt: 1,
                    work: [
                        .forgetSecrets(instanceId: "inst-1", .named([.user("bob", host: "%")])),
                        .record(.recordGuestChangeApplied(change), instanceId: "inst-1"),
                    ]))
        #expect(
            Saga.ChangeGuest.failure(reason: "refused", facts(history, trigger: requested)) == [
                .forgetSecrets(instanceId: "inst-1", .named([.user("bob", host: "%")])),
                .record(.recordGuestChangeFailed(change, reason: "refused"), instanceId: "inst-1"),
            ])
        #expect(
            decide(definition, facts(history, trigger: .restartRequested))
                == .run(step: .applyOnGuest, attempt: 1, work: [.failPermanently(reason: "ChangeGuest was not started by a GuestChangeRequested")])
        )
    }

    @Test("the other instance sagas: one guest call, then the fact, only while the instance still waits for it")
    func guestOperations() {
        let restarting = Self.active + [.restartRequested]
        #expect(
            decide(Saga.RestartInstance.self, facts(restarting))
                == .run(
                    step: .restartDatastore, attempt: 1,
                    work: [
                        .callGuest(instanceId: "inst-1", .restart(flavorId: nil))
                    ]))
        #expect(
            decide(Saga.RestartInstance.self, done: [.restartDatastore], facts(restarting))
                == .run(step: .markRestarted, attempt: 1, work: [.record(.recordRestarted, instanceId: "inst-1")]))
        #expect(
            decide(Saga.RestartInstance.self, done: [.restartDatastore], facts(restarting + [.instanceRestarted]))
                == .run(step: .markRestarted, attempt: 1, work: []))
        let resizing = Self.active + [.flavorResizeRequested(.init(flavorId: "3"))]
        #expect(
            decide(Saga.ResizeFlavor.self, facts(resizing))
                == .run(
                    step: .applyFlavor, attempt: 1,
                    work: [
                        .callGuest(instanceId: "inst-1", .restart(flavorId: "3"))
                    ]))
        let growing = Self.active + [.volumeResizeRequested(.init(size: 4))]
        #expect(
            decide(Saga.ResizeVolume.self, facts(growing))
                == .run(
                    step: .resizeVolume, attempt: 1,
                    work: [
                        .callGuest(instanceId: "inst-1", .resizeVolume(sizeGB: 4))
                    ]))
        let deleting = Self.active + [.deleteRequested]
        #expect(
            decide(Saga.DeleteInstance.self, facts(deleting))
                == .run(
                    step: .stopDatastore, attempt: 1,
                    work: [
                        .callGuest(instanceId: "inst-1", .stopDatastore)
                    ]))
        #expect(
            decide(Saga.DeleteInstance.self, done: [.stopDatastore, .releaseCompute], facts(deleting))
                == .run(step: .dropReplicationSlot, attempt: 1, work: []), "not a replica: no slot to drop")
        #expect(
            decide(Saga.DeleteInstance.self, done: [.stopDatastore, .releaseCompute, .dropReplicationSlot], facts(deleting))
                == .run(
                    step: .markDeleted, attempt: 1,
                    work: [
                        .forgetSecrets(instanceId: "inst-1", .all), .forgetHeartbeat(instanceId: "inst-1"),
                        .record(.recordDeleted, instanceId: "inst-1"),
                    ]))
        let configuring = Self.active + [.configurationAttached(.init(configurationId: "cfg-1", values: ["work_mem": .integer(8192)]))]
        #expect(
            decide(Saga.ConfigureInstance.self, facts(configuring))
                == .run(
                    step: .applyConfiguration, attempt: 1,
                    work: [
                        .callGuest(instanceId: "inst-1", .applyConfiguration(["work_mem": .integer(8192)]))
                    ]))
        #expect(Saga.ConfigureInstance.recorded(pendingRestart: []) == .recordConfigurationApplied)
    }

    @Test("the registry: each kind's program names that kind, and step and compensation names are unique within a program")
    func registryMatchesPrograms() {
        for kind in Saga.Kind.allCases {
            #expect(kind.program.kind == kind, "\(kind)")
            let unique = Self.recordedNamesAreUnique(kind.program)
            #expect(unique, "\(kind)")
        }
    }

    /// The names a program's events record are unique: no two steps, nor a step and a compensation, share one
    /// (attempts are counted per name).
    static func recordedNamesAreUnique<Program: SagaProgram>(_ program: Program.Type) -> Bool {
        let steps = Program.Step.allCases.map(\.rawValue)
        let compensations = Program.Step.allCases.compactMap { program.policy(of: $0).compensation?.rawValue }
        return Set(steps + compensations).count == steps.count + compensations.count
    }
}
