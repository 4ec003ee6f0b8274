import Foundation

extension Saga {
    /// What happened to a saga. Stored on `saga-<uuid>` streams.
    public enum Event: DomainEvent {
        /// The saga began, triggered by an event of the instance.
        case sagaStarted(Start)
        /// An attempt of a step began.
        case stepStarted(StepAttempt)
        /// That attempt succeeded.
        case stepSucceeded(StepAttempt)
        /// That attempt failed; `retryAt` says when the next one runs (nil: no more attempts).
        case stepFailed(StepFailure)
        /// A compensation attempt began.
        case compensationStarted(StepAttempt)
        /// The compensation succeeded.
        case compensationSucceeded(StepAttempt)
        /// The compensation attempt failed.
        case compensationFailed(StepFailure)
        /// Every step succeeded.
        case sagaCompleted
        /// The saga failed; what it had done is compensated.
        case sagaFailed(Outcome)
        /// The saga stopped because its work is no longer wanted (e.g. the instance is being deleted).
        case sagaCancelled(Outcome)
    }

    /// How a saga began.
    public struct Start: Codable, Sendable, Equatable {
        /// The kind's name (`Saga.Kind`), e.g. `CreateInstance`.
        public var saga: String
        /// The instance it works on ("" when its subject is a cluster).
        public var instanceId: String
        /// The cluster it works on (absent for instance sagas, and in older events).
        public var clusterId: String?
        /// The stream and version of the event that triggered it.
        public var triggerStream: String
        /// The triggering event's version in its stream.
        public var triggerVersion: Int
        /// The triggering event's type.
        public var triggerType: String
        /// The request that started it all (carried into every event's metadata).
        public var requestId: String?

        /// The stream of the saga's subject (`instance-<id>` or `cluster-<id>`; for a saga about neither, its
        /// trigger's stream): its sagas run one after another.
        public var subjectStream: String {
            if let clusterId { return "cluster-\(clusterId)" }
            return instanceId.isEmpty ? triggerStream : "instance-\(instanceId)"
        }

        /// Creates a start.
        public init(
            saga: String, instanceId: String, clusterId: String? = nil, triggerStream: String, triggerVersion: Int,
            triggerType: String, requestId: String?
        ) {
            self.clusterId = clusterId
            self.saga = saga
            self.instanceId = instanceId
            self.triggerStream = triggerStream
            self.triggerVersion = triggerVersion
            self.triggerType = triggerType
            self.requestId = requestId
        }
    }

    /// One attempt of a step or compensation.
    public struct StepAttempt: Codable, Sendable, Equatable {
        /// The step (or compensation) name.
        public var step: String
        /// 1, 2, 3...
        public var attempt: Int
        /// On a success: what the step's actions produced, which later steps decide from (absent when nothing).
        public var result: StepResult?
        /// Creates an attempt.
        public init(step: String, attempt: Int, result: StepResult? = nil) {
            self.step = step
            self.attempt = attempt
            self.result = result
        }
    }

    /// What a step's actions produced: an input of the saga's later decisions, recorded with the step's success.
    public enum StepResult: Codable, Sendable, Equatable {
        /// The server started for an instance, not yet recorded on it.
        case server(serverId: String, address: String)
        /// How a server was fenced (stopped by its guest, or powered off).
        case fenced(how: String)
    }

    /// A failed attempt.
    public struct StepFailure: Codable, Sendable, Equatable {
        /// The step (or compensation) name.
        public var step: String
        /// The attempt that failed.
        public var attempt: Int
        /// What went wrong, for people.
        public var reason: String
        /// When the next attempt runs; nil when there is none.
        public var retryAt: Date?
        /// The saga goes on without this step (a best-effort step out of attempts).
        public var skipped: Bool

        /// Creates a failure.
        public init(step: String, attempt: Int, reason: String, retryAt: Date?, skipped: Bool = false) {
            self.step = step
            self.attempt = attempt
            self.reason = reason
            self.retryAt = retryAt
            self.skipped = skipped
        }
    }

    /// Why a saga ended without completing.
    public struct Outcome: Codable, Sendable, Equatable {
        /// For people.
        public var reason: String
        /// Creates an outcome.
        public init(reason: String) { self.reason = reason }
    }
}

extension Saga.Event: EnvelopedEvent {
    /// Every saga event type.
    public static let eventTypes = [
        "SagaStarted", "SagaStepStarted", "SagaStepSucceeded", "SagaStepFailed", "SagaCompensationStarted",
        "SagaCompensationSucceeded", "SagaCompensationFailed", "SagaCompleted", "SagaFailed", "SagaCancelled",
    ]

    /// The event type name, e.g. `SagaStepStarted`.
    public var eventType: String {
        switch self {
        case .sagaStarted: "SagaStarted"
        case .stepStarted: "SagaStepStarted"
        case .stepSucceeded: "SagaStepSucceeded"
        case .stepFailed: "SagaStepFailed"
        case .compensationStarted: "SagaCompensationStarted"
        case .compensationSucceeded: "SagaCompensationSucceeded"
        case .compensationFailed: "SagaCompensationFailed"
        case .sagaCompleted: "SagaCompleted"
        case .sagaFailed: "SagaFailed"
        case .sagaCancelled: "SagaCancelled"
        }
    }

    var payload: any Encodable & Sendable {
        switch self {
        case .sagaStarted(let start): start
        case .stepStarted(let attempt), .stepSucceeded(let attempt), .compensationStarted(let attempt),
            .compensationSucceeded(let attempt):
            attempt
        case .stepFailed(let failure), .compensationFailed(let failure): failure
        case .sagaCompleted: NoPayload()
        case .sagaFailed(let outcome), .sagaCancelled(let outcome): outcome
        }
    }

    static func decode(eventType: String, from source: some EventPayloadSource) throws -> Self {
        switch eventType {
        case "SagaStarted": .sagaStarted(try source.decode(Saga.Start.self))
        case "SagaStepStarted": .stepStarted(try source.decode(Saga.StepAttempt.self))
        case "SagaStepSucceeded": .stepSucceeded(try source.decode(Saga.StepAttempt.self))
        case "SagaStepFailed": .stepFailed(try source.decode(Saga.StepFailure.self))
        case "SagaCompensationStarted": .compensationStarted(try source.decode(Saga.StepAttempt.self))
        case "SagaCompensationSucceeded": .compensationSucceeded(try source.decode(Saga.StepAttempt.self))
        case "SagaCompensationFailed": .compensationFailed(try source.decode(Saga.StepFailure.self))
        case "SagaCompleted": .sagaCompleted
        case "SagaFailed": .sagaFailed(try source.decode(Saga.Outcome.self))
        case "SagaCancelled": .sagaCancelled(try source.decode(Saga.Outcome.self))
        default: throw UnknownEventType(aggregate: "Saga", eventType: eventType)
        }
    }

    public init(from decoder: any Decoder) throws { self = try Self.decodedEnvelope(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try encodedEnvelope(to: encoder) }
}
