extension Saga {
    /// A saga of five steps that ask for nothing: what is left is the saga engine's own cost (fold, decide, record
    /// each step, the trigger over the bus). `cellar bench sagas` runs it through the real task manager; no
    /// product event triggers it.
    public enum NoOp: SagaProgram {
        public enum Step: String, CaseIterable, Sendable {
            case step1 = "step-1", step2 = "step-2", step3 = "step-3", step4 = "step-4", step5 = "step-5"
        }

        /// The event type that starts a no-op saga (on a stream of its own category, e.g. `probe-<uuid>`).
        public static let triggerEventType = "NoOpSagaRequested"

        public static let kind = Kind.noOp

        /// Each step may take 30 s and is not retried.
        public static func policy(of step: Step) -> Policy { .init(timeout: .seconds(30), retry: .once) }

        public static func work(for step: Step, _ facts: Facts) -> StepWork { [] }

        public static func failure(reason: String, _ facts: Facts) -> [Action] { [] }
    }
}
