import Bus
import EventStore
import Foundation
import GuestProtocol
import Lifecycle
import Logging
import PostgresNIO

/// Drives one saga stream to its end: folds it and its subject, asks `Saga.decide` what to do, has the
/// interpreter perform the typed actions (or, for a waiting step, hands the program every append to the streams
/// it watches), records the outcome, repeats. Each record is appended with the
/// expected version, so if another runner moved the saga on, this one stops.
struct SagaRunner: Sendable {
    let sagaID: String
    let kind: Saga.Kind
    let context: SagaContext
    let store: PostgresEventStore
    /// Called after each recorded event (tests use it to crash the process at a chosen point).
    let afterRecording: @Sendable (Saga.Event) -> Void
    let logger: Logger

    var stream: String { "saga-\(sagaID)" }

    /// What the task manager knows already when it has just started the saga itself: the runner then reads
    /// neither the saga's stream nor the trigger from the log.
    struct Head: Sendable {
        var state: Saga.State
        var trigger: SagaTrigger
    }

    /// Runs the saga from `head`, or (nil: resuming, or after a failure) from what the log says.
    func run(from head: Head? = nil) async throws {
        try await run(kind.program, from: head)
    }

    private func run<Program: SagaProgram>(_ program: Program.Type, from head: Head?) async throws {
        let interpreter = SagaInterpreter(context: context)
        let trigger = if let head { head.trigger } else { try await context.triggerEvent() }
        // Folded once; after that the runner's own appends move it on (a concurrent runner makes the next one fail).
        var state = if let head { head.state } else { try await load() }
        while !Task.isCancelled {
            if state.isFinished { return }
            switch Saga.decide(
                state, of: program, facts: try await context.facts(trigger: trigger, siblingReplicas: program.readsSiblingReplicas), at: Date())
            {
            case .finished:
                return
            case .wait(let until):
                try await Task.sleep(for: .seconds(max(0, until.timeIntervalSinceNow)))
            case .run(let step, let attempt, let work):
                let name = step.rawValue
                let policy = program.policy(of: step)
                guard let running = try await record(.stepStarted(.init(step: name, attempt: attempt)), after: state) else { return }
                let outcome: Saga.Event
                do {
                    let result = try await withTimeout(policy.timeout, what: "step \(name)") { try await perform(work, with: interpreter) }
                    outcome = .stepSucceeded(.init(step: name, attempt: attempt, result: result))
                } catch let cancellation as SagaCancellation {
                    outcome = .sagaCancelled(.init(reason: cancellation.description))
                } catch  where Self.isOutage(error) {
                    throw error  // not the step's failure: the runner starts again from the log once they are back
                } catch {
                    logger.warning(
                        "saga step failed", metadata: ["saga": "\(stream)", "step": "\(name)", "attempt": "\(attempt)", "error": "\(error)"])
                    outcome = Saga.failure(
                        of: step, policy: policy, attempt: attempt, reason: Self.reason(error, step: name),
                        retryable: Self.isRetryable(error), at: Date())
                }
                guard let recorded = try await record(outcome, after: running) else { return }
                state = recorded
            case .compensate(_, let compensation, let attempt, let actions):
                let name = compensation.rawValue
                guard let running = try await record(.compensationStarted(.init(step: name, attempt: attempt)), after: state) else { return }
                let outcome: Saga.Event
                do {
                    _ = try await withTimeout(.seconds(60), what: "compensation \(name)") { try await perform(actions, with: interpreter) }
                    outcome = .compensationSucceeded(.init(step: name, attempt: attempt))
                } catch  where Self.isOutage(error) {
                    throw error
                } catch {
                    outcome = Saga.compensationFailure(compensation, attempt: attempt, reason: "\(error)", at: Date())
                }
                guard let recorded = try await record(outcome, after: running) else { return }
                state = recorded
            case .complete:
                guard let recorded = try await record(.sagaCompleted, after: state) else { return }
                state = recorded
            case .fail(let reason, let actions):
                do {
                    try await perform(actions, with: interpreter)
                } catch let rejection as Rejection {
                    // The instance moved on (deleted, another task): the saga's failure is still recorded below.
                    logger.warning("could not record the failure on the instance", metadata: ["saga": "\(stream)", "rejection": "\(rejection)"])
                }
                guard let recorded = try await record(.sagaFailed(.init(reason: reason)), after: state) else { return }
                state = recorded
            }
        }
    }

    /// Does a step's work; what it produced for later steps, if anything.
    private func perform(_ work: Saga.StepWork, with interpreter: SagaInterpreter) async throws -> Saga.StepResult? {
        switch work {
        case .act(let actions):
            return try await perform(actions, with: interpreter)
        case .await(let wait):
            try await awaitInputs(wait, with: interpreter)
            return nil
        }
    }

    /// Folds the streams `wait` watches and asks it what to do, again after each append to one of them (and at
    /// least every `interval`, should a notification be lost), until it is met; the step's timeout bounds it.
    private func awaitInputs(_ wait: Saga.Wait, with interpreter: SagaInterpreter, every interval: Duration = .milliseconds(500)) async throws {
        while true {
            var instances: [Instance.State] = []
            for id in wait.instanceIds { instances.append(try await context.instance(id)) }
            var clusters: [Cluster.State] = []
            for id in wait.clusterIds { clusters.append(try await context.cluster(id)) }
            switch wait.progress(instances: instances, clusters: clusters) {
            case .met: return
            case .act(let actions): try await perform(actions, with: interpreter)
            case .cancelled(let reason): throw SagaCancellation(reason)
            case .failed(let reason): throw PermanentFailure(reason)
            case .waiting:
                try Task.checkCancellation()
                await context.services.appends.nextAppend(to: wait.streams, limit: interval)
            }
        }
    }

    /// Performs `actions` in order; what the last one that produced something produced.
    @discardableResult
    private func perform(_ actions: [Saga.Action], with interpreter: SagaInterpreter) async throws -> Saga.StepResult? {
        var result: Saga.StepResult?
        for action in actions {
            if let produced = try await interpreter.perform(action) { result = produced }
        }
        return result
    }

    private func load() async throws -> Saga.State {
        let recorded = try await store.readStream(stream)
        return Saga.replay(recorded.compactMap { try? Saga.Event.decode(eventType: $0.type, data: $0.data) })
    }

    /// Appends `event` after `state` and returns the state it leads to; nil when another runner appended first
    /// (this one then stops).
    private func record(_ event: Saga.Event, after state: Saga.State) async throws -> Saga.State? {
        // Work starts only under the subject's lease: if it lapsed and another task manager took it, that one goes
        // on. (An outcome needs no check: its append names the version after this runner's own start.)
        if event.startsWork, try await !context.services.leases.acquire(context.start.subjectStream) {
            logger.warning("the saga's subject is leased to another task manager; this runner stops", metadata: ["saga": "\(stream)"])
            return nil
        }
        let metadata = try JSONEncoder().encode(context.metadata)
        do {
            _ = try await store.append(
                to: stream, expectedVersion: .exact(state.version),
                events: [NewEvent(type: event.eventType, data: try event.encodedData(), metadata: metadata)])
        } catch is WrongExpectedVersion {
            logger.info("saga moved on elsewhere; this runner stops", metadata: ["saga": "\(stream)"])
            return nil
        }
        afterRecording(event)
        return Saga.evolve(state, event)
    }

    /// The broker or the database cannot be reached right now (restarted, network down). Such an error uses up
    /// none of the step's attempts: the runner stops, and the task manager runs it again from the log after a
    /// pause, as often as the outage lasts.
    static func isOutage(_ error: any Error) -> Bool {
        switch error {
        case let bus as BusError:
            return bus.code == .connection
        case is ConnectionClosed:
            return true
        case let database as PSQLError:
            if [.connectionError, .serverClosedConnection, .uncleanShutdown].contains(database.code) { return true }
            // Class 08 (connection exception), 57P01-57P03 (shutting down, restarting, not yet accepting).
            let state = database.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
        default:
            return false
        }
    }

    static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case is PermanentFailure: false
        case let failure as RemoteFailure: !GuestFailureType.isPermanent(failure.type)
        default: true
        }
    }

    static func reason(_ error: any Error, step: String) -> String {
        switch error {
        case let failure as PermanentFailure: failure.description
        case let failure as RemoteFailure: "\(step): the guest reported \(failure.type): \(failure.message)"
        default: "\(step): \(error)"
        }
    }
}

/// Runs `body`, failing with `StepTimeout` when it takes longer than `limit`; inside it `StepDeadline.current`
/// is when that happens.
func withTimeout<T: Sendable>(_ limit: Duration, what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let deadline = ContinuousClock.now + limit
    guard let value = try await withDeadline(limit, { try await StepDeadline.$current.withValue(deadline) { try await body() } }) else {
        throw StepTimeout(what: what, limit: limit)
    }
    return value
}

/// The end of the saga step (or compensation) being performed. A guest call inside it waits at most until a
/// second before it, so an RPC's timeout is its step's, not a second number to keep in line with it.
enum StepDeadline {
    @TaskLocal static var current: ContinuousClock.Instant?

    /// How long a call may wait now: until a second before the step's end, and no longer than `limit` if given
    /// (30 s outside a step).
    static func callTimeout(limit: Duration? = nil) -> Duration {
        guard let current else { return limit ?? .seconds(30) }
        let remaining = max(current - .now - .seconds(1), .milliseconds(100))
        return limit.map { min($0, remaining) } ?? remaining
    }
}

/// A step or compensation took too long.
struct StepTimeout: Error, CustomStringConvertible {
    var what: String
    var limit: Duration
    var description: String { "\(what) did not finish within \(limit)" }
}

extension Saga.Event {
    /// An event after which the runner performs the step's (or compensation's) actions: recorded only under the
    /// subject's lease.
    var startsWork: Bool {
        switch self {
        case .stepStarted, .compensationStarted: true
        case .sagaStarted, .stepSucceeded, .stepFailed, .compensationSucceeded, .compensationFailed, .sagaCompleted, .sagaFailed,
            .sagaCancelled:
            false
        }
    }
}
