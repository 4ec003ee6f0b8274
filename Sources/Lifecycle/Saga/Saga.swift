import Foundation

/// A saga: a long-running task (create an instance, delete it, restart it...) as a program of typed steps, each
/// with a timeout, a retry policy and an optional compensation (`SagaProgram`). The task manager performs the steps; every start,
/// success and failure is an event on the saga's own stream (`saga-<uuid>`), so a restarted task manager folds
/// the stream and continues where the last one stopped. Pure: no I/O, time is an argument.
public enum Saga {
    /// How one step runs: how long an attempt may take, how often it is tried, what undoes it.
    public struct StepPolicy<Compensation: Sendable & Equatable>: Sendable, Equatable {
        /// How long one attempt may take before it counts as failed.
        public var timeout: Duration
        /// How often and how soon a failed attempt is tried again.
        public var retry: RetryPolicy
        /// What undoes the step when the saga fails later (e.g. `releaseCompute`).
        public var compensation: Compensation?
        /// A failure past the retries does not fail the saga: it is recorded and the saga goes on (best effort).
        public var bestEffort: Bool

        /// Creates a policy.
        public init(timeout: Duration, retry: RetryPolicy, compensation: Compensation? = nil, bestEffort: Bool = false) {
            self.timeout = timeout
            self.retry = retry
            self.compensation = compensation
            self.bestEffort = bestEffort
        }
    }

    /// Attempts and exponential backoff between them.
    public struct RetryPolicy: Sendable, Equatable {
        /// Attempts in all (1: no retry).
        public var maxAttempts: Int
        /// The wait after the first failure.
        public var firstDelay: Duration
        /// The longest wait.
        public var maxDelay: Duration

        /// Creates a policy.
        public init(maxAttempts: Int, firstDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(30)) {
            self.maxAttempts = maxAttempts
            self.firstDelay = firstDelay
            self.maxDelay = maxDelay
        }

        /// No retries.
        public static let once = RetryPolicy(maxAttempts: 1)

        /// The wait after failed attempt number `attempt` (1-based): first, twice that, ... at most `maxDelay`.
        public func delay(afterAttempt attempt: Int) -> Duration {
            var delay = firstDelay
            for _ in 1..<max(attempt, 1) { delay = min(delay * 2, maxDelay) }
            return min(delay, maxDelay)
        }
    }

    /// Where the saga's own machine stands next: which step (or compensation) of `Program` is due, a timer, or
    /// the end. `decide` turns it into a `Decision` with the step's typed actions.
    public enum Next<Program: SagaProgram>: Sendable, Equatable {
        /// Perform `step`; this is attempt number `attempt`.
        case run(step: Program.Step, attempt: Int)
        /// Nothing to do before `until` (a retry is scheduled).
        case wait(until: Date)
        /// Undo `step` by running its compensation; attempt number `attempt`.
        case compensate(step: Program.Step, compensation: Program.Compensation, attempt: Int)
        /// Every step succeeded: record completion.
        case complete
        /// A step failed past its retries and the compensations ran: record the failure with `reason`.
        case fail(reason: String)
        /// The saga has ended (completed, failed or cancelled).
        case finished
    }
}
