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
        /// For a replica: the other replicas of its source, as the read models say now (loaded only for programs
        /// that read them: `SagaProgram.readsSiblingReplicas`).
        public var siblingReplicaIds: [String]
        /// The backup the saga works on, folded (backup sagas only).
        public var backup: Backup.State?
        /// What the saga's succeeded steps produced, by step name (filled in by `decide` from the saga's state).
        public var results: [String: StepResult] = [:]

        /// What `step` of this saga produced, if it succeeded with a result.
        public func result<Step: RawRepresentable<String>>(of step: Step) -> StepResult? { results[step.rawValue] }

        /// Creates facts.
        public init(
            instance: Instance.State, createSpec: Instance.Spec? = nil, trigger: Instance.Event? = nil,
            cluster: Cluster.State? = nil, clusterTrigger: Cluster.Event? = nil, siblingReplicaIds: [String] = [],
            backup: Backup.State? = nil
        ) {
            self.backup = backup
            self.instance = instance
            self.createSpec = createSpec
            self.trigger = trigger
            self.cluster = cluster
            self.clusterTrigger = clusterTrigger
            self.siblingReplicaIds = siblingReplicaIds
        }
    }

    /// What the runner does now: the saga machine's `Next` with the typed actions of that step.
    public enum Decision<Program: SagaProgram>: Sendable, Equatable {
        /// Record the attempt, do the step's `work` (act, or wait for the log), record the outcome.
        case run(step: Program.Step, attempt: Int, work: StepWork)
        /// Nothing before `until` (a retry's backoff).
        case wait(until: Date)
        /// Record the attempt, perform the compensation's `actions`, record the outcome.
        case compensate(step: Program.Step, compensation: Program.Compensation, attempt: Int, actions: [Action])
        /// Record completion.
        case complete
        /// Perform `actions` (the failure shown on the subject), then record the saga's failure.
        case fail(reason: String, actions: [Action])
        /// The saga has ended.
        case finished
    }

    /// The decision for a saga of `program` in `state`, given the `facts` of its subject.
    public static func decide<Program: SagaProgram>(_ state: State, of program: Program.Type, facts: Facts, at now: Date) -> Decision<Program> {
        var facts = facts
        facts.results = state.results ?? [:]
        return switch next(state, of: program, at: now) {
        case .finished: .finished
        case .wait(let until): .wait(until: until)
        case .complete: .complete
        case .run(let step, let attempt):
            .run(step: step, attempt: attempt, work: program.work(for: step, facts))
        case .compensate(let step, let compensation, let attempt):
            .compensate(step: step, compensation: compensation, attempt: attempt, actions: program.actions(for: compensation, facts))
        case .fail(let reason):
            .fail(reason: reason, actions: program.failure(reason: reason, facts))
        }
    }
}

/// One kind of saga as a pure program: its steps as an enum, in the order they run (raw values are the names its
/// events record), each step's policy (timeout, retries, compensation) by an exhaustive switch, each step's work
/// (typed actions, or a wait whose inputs are the log's events), and the actions each compensation and failure
/// asks for. A step without a policy or work does not compile.
public protocol SagaProgram: Sendable {
    /// The steps, in the order they run.
    associatedtype Step: RawRepresentable<String>, CaseIterable, Hashable, Sendable
    /// What undoes a step (raw values are the names its events record); none by default.
    associatedtype Compensation: RawRepresentable<String>, Hashable, Sendable = Saga.NoCompensation
    /// The registry's entry for this program.
    static var kind: Saga.Kind { get }
    /// How `step` runs.
    static func policy(of step: Step) -> Saga.StepPolicy<Compensation>
    /// What `step` does, given the facts: actions (an array literal), or a wait.
    static func work(for step: Step, _ facts: Saga.Facts) -> Saga.StepWork
    /// What `compensation` asks for, given the facts.
    static func actions(for compensation: Compensation, _ facts: Saga.Facts) -> [Saga.Action]
    /// What shows the saga's failure on its subject.
    static func failure(reason: String, _ facts: Saga.Facts) -> [Saga.Action]
    /// Whether its decisions read `Facts.siblingReplicaIds` (a read-model query, made only for such programs);
    /// false by default.
    static var readsSiblingReplicas: Bool { get }
}

extension SagaProgram {
    public static var readsSiblingReplicas: Bool { false }
}

extension SagaProgram where Compensation == Saga.NoCompensation {
    public static func actions(for compensation: Compensation, _ facts: Saga.Facts) -> [Saga.Action] { [] }
}

extension Saga {
    /// The compensations of a program that has none: no value exists.
    public struct NoCompensation: RawRepresentable, Hashable, Sendable {
        public init?(rawValue: String) { nil }
        public var rawValue: String { "" }
    }

    /// A step policy of a program without compensations.
    public typealias Policy = StepPolicy<NoCompensation>
}
