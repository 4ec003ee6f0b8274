import Foundation

extension Saga {
    /// Compensations are retried this often before the saga gives up on them.
    public static let compensationRetry = RetryPolicy(maxAttempts: 5, firstDelay: .seconds(1), maxDelay: .seconds(10))

    /// What to do next in `state` of a saga of `program`, at `now`. Steps run in the order of `Program.Step`;
    /// names in `state` are those its events recorded.
    ///
    /// A step that was started but never finished (the task manager died during it) is run again as a new
    /// attempt: steps must be idempotent.
    public static func next<Program: SagaProgram>(_ state: State, of program: Program.Type, at now: Date) -> Next<Program> {
        switch state.phase {
        case .notStarted, .completed, .failed, .cancelled:
            return .finished
        case .running:
            if let retryAt = state.retryAt, retryAt > now { return .wait(until: retryAt) }
            guard let step = Program.Step.allCases.first(where: { !state.finishedSteps.contains($0.rawValue) }) else { return .complete }
            return .run(step: step, attempt: (state.attempts[step.rawValue] ?? 0) + 1)
        case .compensating:
            if let retryAt = state.retryAt, retryAt > now { return .wait(until: retryAt) }
            for step in Program.Step.allCases.reversed() where state.startedSteps.contains(step.rawValue) {
                guard let compensation = program.policy(of: step).compensation, !state.compensated.contains(compensation.rawValue) else { continue }
                return .compensate(step: step, compensation: compensation, attempt: (state.attempts[compensation.rawValue] ?? 0) + 1)
            }
            return .fail(reason: state.failureReason ?? "the saga failed")
        }
    }

    /// The event recording a failed attempt of `step` (run by `policy`): a retry when attempts are left and the
    /// failure is retryable, else the end of the step (skipped when best effort, otherwise the saga starts
    /// compensating).
    public static func failure<Step: RawRepresentable<String>, Compensation>(
        of step: Step, policy: StepPolicy<Compensation>, attempt: Int, reason: String, retryable: Bool, at now: Date
    ) -> Event {
        if retryable && attempt < policy.retry.maxAttempts {
            let retryAt = now.addingTimeInterval(policy.retry.delay(afterAttempt: attempt).seconds)
            return .stepFailed(StepFailure(step: step.rawValue, attempt: attempt, reason: reason, retryAt: retryAt))
        }
        return .stepFailed(StepFailure(step: step.rawValue, attempt: attempt, reason: reason, retryAt: nil, skipped: policy.bestEffort))
    }

    /// The event recording a failed compensation attempt: retried per `compensationRetry`, then given up.
    public static func compensationFailure<Compensation: RawRepresentable<String>>(
        _ compensation: Compensation, attempt: Int, reason: String, at now: Date
    ) -> Event {
        let retryAt =
            attempt < compensationRetry.maxAttempts
            ? now.addingTimeInterval(compensationRetry.delay(afterAttempt: attempt).seconds) : nil
        return .compensationFailed(StepFailure(step: compensation.rawValue, attempt: attempt, reason: reason, retryAt: retryAt))
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    public var seconds: TimeInterval {
        let (whole, fraction) = components
        return TimeInterval(whole) + TimeInterval(fraction) / 1e18
    }
}
