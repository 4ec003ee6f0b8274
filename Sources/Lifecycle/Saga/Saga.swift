import Foundation

/// A saga: a long-running task (create an instance, delete it, restart it...) as a table of steps, each with a
/// timeout, a retry policy and an optional compensation. The task manager performs the steps; every start,
/// success and failure is an event on the saga's own stream (`saga-<uuid>`), so a restarted task manager folds
/// the stream and continues where the last one stopped. Pure: no I/O, time is an argument.
public enum Saga {
    /// The steps of one kind of saga, in order.
    public struct Definition: Sendable, Equatable {
        /// e.g. `CreateInstance`.
        public var name: String
        /// Run in order; compensated in reverse order.
        public var steps: [Step]

        /// Creates a definition.
        public init(name: String, steps: [Step]) {
            self.name = name
            self.steps = steps
        }

        /// The step called `name`.
        public func step(named name: String) -> Step? { steps.first { $0.name == name } }
    }

    /// One step.
    public struct Step: Sendable, Equatable {
        /// e.g. `allocateCompute`.
        public var name: String
        /// How long one attempt may take before it counts as failed.
        public var timeout: Duration
        /// How often and how soon a failed attempt is tried again.
        public var retry: RetryPolicy
        /// The step that undoes this one when the saga fails later (e.g. `releaseCompute`).
        public var compensation: String?
        /// A failure past the retries does not fail the saga: it is recorded and the saga goes on (best effort).
        public var bestEffort: Bool

        /// Creates a step.
        public init(_ name: String, timeout: Duration, retry: RetryPolicy, compensation: String? = nil, bestEffort: Bool = false) {
            self.name = name
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

    /// Where the saga's own machine stands next: which step (or compensation) is due, a timer, or the end.
    /// `decide` turns it into a `Decision` with the step's typed actions.
    public enum Next: Sendable, Equatable {
        /// Perform `step`; this is attempt number `attempt`.
        case run(step: String, attempt: Int)
        /// Nothing to do before `until` (a retry is scheduled).
        case wait(until: Date)
        /// Undo `step` by running its compensation; attempt number `attempt`.
        case compensate(step: String, compensation: String, attempt: Int)
        /// Every step succeeded: record completion.
        case complete
        /// A step failed past its retries and the compensations ran: record the failure with `reason`.
        case fail(reason: String)
        /// The saga has ended (completed, failed or cancelled).
        case finished
    }
}
