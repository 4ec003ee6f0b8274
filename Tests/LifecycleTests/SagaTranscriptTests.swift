import Foundation
import Lifecycle
import Testing

/// Sagas as pure machines: what the runner is told to do next after each recorded event.
@Suite("Saga transcripts")
struct SagaTranscriptTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let started: [Saga.Event] = [
        .sagaStarted(
            Saga.Start(
                saga: "CreateInstance", instanceId: "inst-1", triggerStream: "instance-inst-1", triggerVersion: 1,
                triggerType: "InstanceCreateRequested", requestId: "req-1"))
    ]

    static func attempt(_ step: String, _ number: Int = 1) -> Saga.StepAttempt { .init(step: step, attempt: number) }

    func next(_ history: [Saga.Event], at now: Date = t0) -> Saga.Next<Saga.CreateInstance> {
        Saga.next(Saga.replay(history), of: Saga.CreateInstance.self, at: now)
    }

    @Test("steps run in order, then the saga completes and is finished")
    func happyPath() {
        var history = Self.started
        #expect(next([]) == .finished)
        for step in Saga.CreateInstance.Step.allCases {
            #expect(next(history) == .run(step: step, attempt: 1))
            history += [.stepStarted(Self.attempt(step.rawValue)), .stepSucceeded(Self.attempt(step.rawValue))]
        }
        #expect(next(history) == .complete)
        #expect(next(history + [.sagaCompleted]) == .finished)
        #expect(Saga.replay(history + [.sagaCompleted]).isFinished)
    }

    @Test("a step started but never finished (the task manager died) runs again as the next attempt")
    func crashedStepRunsAgain() {
        let history = Self.started + [.stepStarted(Self.attempt("allocateCompute"))]
        #expect(next(history) == .run(step: .allocateCompute, attempt: 2))
    }

    @Test("a retryable failure waits with backoff, then retries; past the attempts it compensates what started")
    func retriesThenCompensates() {
        let allocate = Saga.CreateInstance.policy(of: .allocateCompute)
        let prepare = Saga.CreateInstance.policy(of: .prepareDatastore)
        var history =
            Self.started + [
                .stepStarted(Self.attempt("allocateCompute")), .stepSucceeded(Self.attempt("allocateCompute")),
                .stepStarted(Self.attempt("recordCompute")), .stepSucceeded(Self.attempt("recordCompute")),
                .stepStarted(Self.attempt("awaitGuestRegistration")), .stepSucceeded(Self.attempt("awaitGuestRegistration")),
                .stepStarted(Self.attempt("awaitRunningPeer")), .stepSucceeded(Self.attempt("awaitRunningPeer")),
            ]
        for number in 1...prepare.retry.maxAttempts {
            history.append(.stepStarted(Self.attempt("prepareDatastore", number)))
            let failure = Saga.failure(
                of: Saga.CreateInstance.Step.prepareDatastore, policy: prepare, attempt: number, reason: "guest busy", retryable: true, at: Self.t0)
            history.append(failure)
            if number < prepare.retry.maxAttempts {
                let retryAt = Self.t0.addingTimeInterval(prepare.retry.delay(afterAttempt: number).seconds)
                #expect(failure == .stepFailed(.init(step: "prepareDatastore", attempt: number, reason: "guest busy", retryAt: retryAt)))
                #expect(next(history) == .wait(until: retryAt))
                #expect(next(history, at: retryAt) == .run(step: .prepareDatastore, attempt: number + 1))
            }
        }
        #expect(next(history) == .compensate(step: .allocateCompute, compensation: allocate.compensation!, attempt: 1))
        history += [.compensationStarted(Self.attempt("releaseCompute")), .compensationSucceeded(Self.attempt("releaseCompute"))]
        #expect(next(history) == .fail(reason: "guest busy"))
        #expect(next(history + [.sagaFailed(.init(reason: "guest busy"))]) == .finished)
    }

    @Test("a permanent failure compensates at once, without retries")
    func permanentFailure() {
        let prepare = Saga.CreateInstance.policy(of: .prepareDatastore)
        let history =
            Self.started + [
                .stepStarted(Self.attempt("allocateCompute")), .stepSucceeded(Self.attempt("allocateCompute")),
                .stepStarted(Self.attempt("recordCompute")), .stepSucceeded(Self.attempt("recordCompute")),
                .stepStarted(Self.attempt("awaitGuestRegistration")), .stepSucceeded(Self.attempt("awaitGuestRegistration")),
                .stepStarted(Self.attempt("prepareDatastore")),
                Saga.failure(
                    of: Saga.CreateInstance.Step.prepareDatastore, policy: prepare, attempt: 1, reason: "InvalidDatabaseName", retryable: false,
                    at: Self.t0),
            ]
        #expect(Saga.replay(history).phase == .compensating)
        #expect(next(history) == .compensate(step: .allocateCompute, compensation: .releaseCompute, attempt: 1))
    }

    @Test("a best-effort step out of attempts is skipped and the saga goes on")
    func bestEffortStepIsSkipped() {
        let history =
            Self.started + [
                .stepStarted(Self.attempt("stopDatastore")),
                Saga.failure(
                    of: Saga.DeleteInstance.Step.stopDatastore, policy: Saga.DeleteInstance.policy(of: .stopDatastore), attempt: 1,
                    reason: "guest did not answer", retryable: true, at: Self.t0),
            ]
        #expect(Saga.next(Saga.replay(history), of: Saga.DeleteInstance.self, at: Self.t0) == .run(step: .releaseCompute, attempt: 1))
    }

    @Test("a compensation that keeps failing is retried, then given up with the reason recorded")
    func compensationGivesUp() {
        var history =
            Self.started + [
                .stepStarted(Self.attempt("allocateCompute")),
                .stepFailed(.init(step: "allocateCompute", attempt: 3, reason: "no address", retryAt: nil)),
            ]
        for number in 1...Saga.compensationRetry.maxAttempts {
            #expect(
                next(history, at: Self.t0.addingTimeInterval(3600))
                    == .compensate(step: .allocateCompute, compensation: .releaseCompute, attempt: number))
            history += [
                .compensationStarted(Self.attempt("releaseCompute", number)),
                Saga.compensationFailure(Saga.CreateInstance.Compensation.releaseCompute, attempt: number, reason: "busy", at: Self.t0),
            ]
        }
        #expect(next(history) == .fail(reason: "no address; compensation releaseCompute failed: busy"))
    }

    @Test("cancelled sagas are finished")
    func cancelled() {
        #expect(next(Self.started + [.sagaCancelled(.init(reason: "deleted"))]) == .finished)
    }

    @Test("the registry of saga kinds: each kind's name is its program's, every trigger is an instance, cluster or backup event and starts one kind")
    func registry() {
        let triggers = Saga.Kind.allCases.flatMap(\.triggers)
        #expect(Set(triggers).count == triggers.count, "an event starts two kinds")
        for trigger in triggers {
            #expect(
                Instance.Event.eventTypes.contains(trigger) || Cluster.Event.eventTypes.contains(trigger)
                    || Backup.Event.eventTypes.contains(trigger),
                "\(trigger)")
        }
        #expect(
            Set(Saga.Kind.triggerTable.map(\.kind)) == Set(Saga.Kind.allCases).subtracting([.noOp]),
            "every kind but the benchmark's runs in the product")
    }

    @Test("backoff doubles up to its limit")
    func backoff() {
        let policy = Saga.RetryPolicy(maxAttempts: 10, firstDelay: .seconds(1), maxDelay: .seconds(5))
        #expect((1...5).map { policy.delay(afterAttempt: $0) } == [.seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5)])
    }

    @Test("every instance event that starts a saga names one, and saga events round-trip through the store's columns")
    func triggersAndCoding() throws {
        func triggered(by eventType: String) -> Saga.Kind? { Saga.Kind.triggerTable.first { $0.eventType == eventType }?.kind }
        #expect(triggered(by: "InstanceCreateRequested") == .createInstance)
        #expect(triggered(by: "DeleteRequested") == .deleteInstance)
        #expect(triggered(by: "GuestRegistered") == nil)
        let events =
            Self.started + [
                .stepStarted(Self.attempt("x")), .stepFailed(.init(step: "x", attempt: 1, reason: "r", retryAt: Self.t0)),
                .compensationSucceeded(Self.attempt("y")), .sagaCompleted, .sagaFailed(.init(reason: "r")),
            ]
        for event in events {
            #expect(try Saga.Event.decode(eventType: event.eventType, data: event.encodedData()) == event)
            #expect(Saga.Event.eventTypes.contains(event.eventType))
        }
    }
}
