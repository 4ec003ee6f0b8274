import Foundation

extension Saga {
    /// Compensations are retried this often before the saga gives up on them.
    public static let compensationRetry = RetryPolicy(maxAttempts: 5, firstDelay: .seconds(1), maxDelay: .seconds(10))

    /// What to do next in `state` of a saga following `definition`, at `now`.
    ///
    /// A step that was started but never finished (the task manager died during it) is run again as a new
    /// attempt: steps must be idempotent.
    public static func next(_ state: State, definition: Definition, at now: Date) -> Next {
        switch state.phase {
        case .notStarted, .completed, .failed, .cancelled:
            return .finished
        case .running:
            if let retryAt = state.retryAt, retryAt > now { return .wait(until: retryAt) }
            guard let step = definition.steps.first(where: { !state.finishedSteps.contains($0.name) }) else { return .complete }
            return .run(step: step.name, attempt: (state.attempts[step.name] ?? 0) + 1)
        case .compensating:
            if let retryAt = state.retryAt, retryAt > now { return .wait(until: retryAt) }
            for step in definition.steps.reversed() where state.startedSteps.contains(step.name) {
                guard let compensation = step.compensation, !state.compensated.contains(compensation) else { continue }
                return .compensate(step: step.name, compensation: compensation, attempt: (state.attempts[compensation] ?? 0) + 1)
            }
            return .fail(reason: state.failureReason ?? "the saga failed")
        }
    }

    /// The event recording a failed attempt of `step`: a retry when attempts are left and the failure is
    /// retryable, else the end of the step (skipped when best effort, otherwise the saga starts compensating).
    public static func failure(
        of step: Step, attempt: Int, reason: String, retryable: Bool, at now: Date
    ) -> Event {
        if retryable && attempt < step.retry.maxAttempts {
            let retryAt = now.addingTimeInterval(step.retry.delay(afterAttempt: attempt).seconds)
            return .stepFailed(StepFailure(step: step.name, attempt: attempt, reason: reason, retryAt: retryAt))
        }
        return .stepFailed(StepFailure(step: step.name, attempt: attempt, reason: reason, retryAt: nil, skipped: step.bestEffort))
    }

    /// The event recording a failed compensation attempt: retried per `compensationRetry`, then given up.
    public static func compensationFailure(_ compensation: String, attempt: Int, reason: String, at now: Date) -> Event {
        let retryAt = attempt < compensationRetry.maxAttempts
            ? now.addingTimeInterval(compensationRetry.delay(afterAttempt: attempt).seconds) : nil
        return .compensationFailed(StepFailure(step: compensation, attempt: attempt, reason: reason, retryAt: retryAt))
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    public var seconds: TimeInterval {
        let (whole, fraction) = components
        return TimeInterval(whole) + TimeInterval(fraction) / 1e18
    }
}
