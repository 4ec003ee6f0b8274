extension Saga {
    /// A saga whose steps ask for nothing: what is left is the saga engine's own cost (fold, decide, record each
    /// step, the trigger over the bus). `cellar bench sagas` runs it through the real task manager; no product
    /// event triggers it.
    public enum NoOp: SagaProgram {
        /// Any step name (`step-1` ... `step-M`): the step count is the definition's.
        public struct Step: RawRepresentable, CaseIterable, Sendable {
            public var rawValue: String
            public init?(rawValue: String) { self.rawValue = rawValue }
            public static var allCases: [Step] { definition.steps.compactMap { Step(rawValue: $0.name) } }
        }

        /// The event type that starts a no-op saga (on a stream of its own category, e.g. `probe-<uuid>`).
        public static let triggerEventType = "NoOpSagaRequested"

        public static let definition = Saga.NoOp.steps(3)

        /// A no-op saga of `count` steps; each may take 30 s and is not retried.
        public static func steps(_ count: Int) -> Definition {
            Definition(name: "NoOp", steps: (1...max(1, count)).map { Saga.Step("step-\($0)", timeout: .seconds(30), retry: .once) })
        }

        public static func actions(for step: Step, _ facts: Facts) -> [Action] { [] }

        public static func failure(reason: String, _ facts: Facts) -> [Action] { [] }
    }
}
