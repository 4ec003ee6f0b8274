import Foundation

extension Saga {
    /// What a saga's steps decide from: its subject as the log says now, and the event that started it.
    public struct Facts: Sendable, Equatable {
        /// The instance the saga works on, folded (an empty state when the subject is a cluster).
        public var instance: Instance.State
        /// The instance's create request (databases, users, flavor), when it has one.
        public var createSpec: Instance.Spec?
        /// The event that started the saga, when it is an instance event.
        public var trigger: Instance.Event?
        /// The cluster the saga works on, folded (nil for instance sagas).
        public var cluster: Cluster.State?
        /// The event that started the saga, when it is a cluster event.
        public var clusterTrigger: Cluster.Event?

        /// Creates facts.
        public init(instance: Instance.State, createSpec: Instance.Spec? = nil, trigger: Instance.Event? = nil,
                    cluster: Cluster.State? = nil, clusterTrigger: Cluster.Event? = nil) {
            self.instance = instance
            self.createSpec = createSpec
            self.trigger = trigger
            self.cluster = cluster
            self.clusterTrigger = clusterTrigger
        }
    }

    /// What the runner does now: the saga machine's `Next` with the typed actions of that step.
    public enum Decision: Sendable, Equatable {
        /// Record the attempt, perform `actions` in order, record the outcome.
        case run(step: String, attempt: Int, actions: [Action])
        /// Nothing before `until` (a retry's backoff).
        case wait(until: Date)
        /// Record the attempt, perform the compensation's `actions`, record the outcome.
        case compensate(step: String, compensation: String, attempt: Int, actions: [Action])
        /// Record completion.
        case complete
        /// Perform `actions` (the failure shown on the subject), then record the saga's failure.
        case fail(reason: String, actions: [Action])
        /// The saga has ended.
        case finished
    }

    /// The decision for a saga in `state` following `definition`, given the `facts` of its subject.
    public static func decide(_ state: State, definition: Definition, facts: Facts, at now: Date) -> Decision {
        guard let program = program(named: definition.name) else {
            return state.isFinished ? .finished : .fail(reason: "no saga is called \(definition.name)", actions: [])
        }
        switch next(state, definition: definition, at: now) {
        case .finished: return .finished
        case .wait(let until): return .wait(until: until)
        case .complete: return .complete
        case .run(let step, let attempt):
            return .run(step: step, attempt: attempt, actions: program.actions(forStep: step, facts))
        case .compensate(let step, let compensation, let attempt):
            return .compensate(step: step, compensation: compensation, attempt: attempt,
                               actions: program.actions(forCompensation: compensation, facts))
        case .fail(let reason):
            return .fail(reason: reason, actions: program.failure(reason: reason, facts))
        }
    }

    /// The program of the saga kind called `name` (nil: none of `Kind`).
    static func program(named name: String) -> (any SagaProgram.Type)? { Kind(rawValue: name)?.program }
}

/// One kind of saga as a pure program: its steps as an enum (raw values are the names its events record), its
/// table of timeouts and retries, and the typed actions each step, compensation and failure asks for.
public protocol SagaProgram {
    /// The steps, in order.
    associatedtype Step: RawRepresentable<String>, CaseIterable
    /// What undoes a step (raw values are the names its events record); none by default.
    associatedtype Compensation: RawRepresentable<String> = Saga.NoCompensation
    /// The steps' timeouts, retries and compensations.
    static var definition: Saga.Definition { get }
    /// What `step` asks for, given the facts.
    static func actions(for step: Step, _ facts: Saga.Facts) -> [Saga.Action]
    /// What `compensation` asks for, given the facts.
    static func actions(for compensation: Compensation, _ facts: Saga.Facts) -> [Saga.Action]
    /// What shows the saga's failure on its subject.
    static func failure(reason: String, _ facts: Saga.Facts) -> [Saga.Action]
}

extension SagaProgram {
    /// The compensation recorded as `name`, typed; a name this program does not have fails it for good.
    static func actions(forCompensation name: String, _ facts: Saga.Facts) -> [Saga.Action] {
        guard let compensation = Compensation(rawValue: name) else {
            return [.failPermanently(reason: "\(definition.name) has no compensation \(name)")]
        }
        return actions(for: compensation, facts)
    }

    /// The step recorded as `name`, typed; a name this program does not have fails the step for good.
    static func actions(forStep name: String, _ facts: Saga.Facts) -> [Saga.Action] {
        guard let step = Step(rawValue: name) else { return [.failPermanently(reason: "\(definition.name) has no step \(name)")] }
        return actions(for: step, facts)
    }
}

extension SagaProgram where Compensation == Saga.NoCompensation {
    public static func actions(for compensation: Compensation, _ facts: Saga.Facts) -> [Saga.Action] { [] }
}

extension Saga {
    /// The compensations of a program that has none: no value exists.
    public struct NoCompensation: RawRepresentable, Sendable {
        public init?(rawValue: String) { nil }
        public var rawValue: String { "" }
    }
}
