import Foundation

extension Saga {
    /// Where a saga stands, folded from its events.
    public struct State: Codable, Sendable, Equatable {
        /// Running steps, undoing them, or ended.
        public enum Phase: String, Codable, Sendable, Equatable {
            case notStarted, running, compensating, completed, failed, cancelled
        }

        /// The phase.
        public var phase: Phase = .notStarted
        /// How it began (nil before `SagaStarted`).
        public var start: Start?
        /// Events applied (the version the next append expects).
        public var version = 0
        /// Steps that succeeded (or were skipped), in order.
        public var finishedSteps: [String] = []
        /// Steps with at least one attempt started: what a failure must compensate.
        public var startedSteps: [String] = []
        /// Compensations that succeeded.
        public var compensated: [String] = []
        /// Attempts started per step or compensation name.
        public var attempts: [String: Int] = [:]
        /// What succeeded steps produced, by step name (absent in streams where no step produced anything).
        public var results: [String: StepResult]?
        /// When the next attempt of the failed step may run.
        public var retryAt: Date?
        /// Why the saga is compensating or failed.
        public var failureReason: String?

        /// A saga with no events.
        public init() {}

        /// Whether the saga has ended.
        public var isFinished: Bool { phase == .completed || phase == .failed || phase == .cancelled }
    }

    /// `state` after `event`. Total: any event applies, even out of order (replay must survive old data).
    public static func evolve(_ state: State, _ event: Event) -> State {
        var next = state
        next.version += 1
        switch event {
        case .sagaStarted(let start):
            next.start = start
            next.phase = .running
        case .stepStarted(let attempt):
            next.attempts[attempt.step] = max(next.attempts[attempt.step] ?? 0, attempt.attempt)
            if !next.startedSteps.contains(attempt.step) { next.startedSteps.append(attempt.step) }
            next.retryAt = nil
        case .stepSucceeded(let attempt):
            if !next.finishedSteps.contains(attempt.step) { next.finishedSteps.append(attempt.step) }
            if let result = attempt.result { next.results = (next.results ?? [:]).merging([attempt.step: result]) { $1 } }
        case .stepFailed(let failure):
            if failure.skipped {
                if !next.finishedSteps.contains(failure.step) { next.finishedSteps.append(failure.step) }
            } else if let retryAt = failure.retryAt {
                next.retryAt = retryAt
            } else {
                next.phase = .compensating
                next.failureReason = failure.reason
                next.retryAt = nil
            }
        case .compensationStarted(let attempt):
            next.attempts[attempt.step] = max(next.attempts[attempt.step] ?? 0, attempt.attempt)
            next.retryAt = nil
        case .compensationSucceeded(let attempt):
            if !next.compensated.contains(attempt.step) { next.compensated.append(attempt.step) }
        case .compensationFailed(let failure):
            next.retryAt = failure.retryAt
            if failure.retryAt == nil, !next.compensated.contains(failure.step) {
                // Out of attempts: give up on this compensation (the failure reason says so) and go on.
                next.compensated.append(failure.step)
                next.failureReason = [next.failureReason, "compensation \(failure.step) failed: \(failure.reason)"]
                    .compactMap { $0 }.joined(separator: "; ")
            }
        case .sagaCompleted:
            next.phase = .completed
        case .sagaFailed(let outcome):
            next.phase = .failed
            next.failureReason = outcome.reason
        case .sagaCancelled(let outcome):
            next.phase = .cancelled
            next.failureReason = outcome.reason
        }
        return next
    }

    /// The state of a saga stream holding `events`.
    public static func replay(_ events: some Sequence<Event>) -> State {
        events.reduce(State(), evolve)
    }
}
