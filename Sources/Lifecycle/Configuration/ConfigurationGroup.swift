import Foundation

/// A configuration group (`/configurations`): named values for one datastore version that instances attach.
/// Its stream is `configuration-<id>`; it has no lifecycle beyond existing and being deleted, so it needs no
/// statechart: `decide` and `evolve` are plain functions over its values.
public enum ConfigurationGroup {
    /// What happened to a group.
    public enum Event: Codable, Sendable, Equatable {
        /// `POST /configurations`.
        case configurationGroupCreated(Created)
        /// `PATCH` (values merged) or `PUT` (values replaced, name and description given).
        case configurationGroupChanged(Changed)
        /// `DELETE /configurations/{id}`.
        case configurationGroupDeleted

        /// Every event type, as stored.
        public static let eventTypes = ["ConfigurationGroupCreated", "ConfigurationGroupChanged", "ConfigurationGroupDeleted"]

        public var eventType: String {
            switch self {
            case .configurationGroupCreated: "ConfigurationGroupCreated"
            case .configurationGroupChanged: "ConfigurationGroupChanged"
            case .configurationGroupDeleted: "ConfigurationGroupDeleted"
            }
        }

        /// The stored `data` column.
        public func encodedData() throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            encoder.dateEncodingStrategy = .iso8601
            switch self {
            case .configurationGroupCreated(let created): return try encoder.encode(created)
            case .configurationGroupChanged(let changed): return try encoder.encode(changed)
            case .configurationGroupDeleted: return Data("{}".utf8)
            }
        }

        /// Rebuilds an event from its stored type and data.
        public static func decode(eventType: String, data: Data) throws -> Event {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            switch eventType {
            case "ConfigurationGroupCreated": return .configurationGroupCreated(try decoder.decode(Created.self, from: data))
            case "ConfigurationGroupChanged": return .configurationGroupChanged(try decoder.decode(Changed.self, from: data))
            case "ConfigurationGroupDeleted": return .configurationGroupDeleted
            default: throw UnknownEventType(aggregate: "ConfigurationGroup", eventType: eventType)
            }
        }
    }

    /// A new group.
    public struct Created: Codable, Sendable, Equatable {
        public var id: String
        public var projectId: String
        public var name: String
        public var description: String?
        public var datastore: Datastore
        public var datastoreVersionId: String
        public var values: [String: ParameterValue]

        public init(
            id: String, projectId: String, name: String, description: String?, datastore: Datastore,
            datastoreVersionId: String, values: [String: ParameterValue]
        ) {
            self.id = id
            self.projectId = projectId
            self.name = name
            self.description = description
            self.datastore = datastore
            self.datastoreVersionId = datastoreVersionId
            self.values = values
        }
    }

    /// New values (all of them, after a merge), and a new name or description when given.
    public struct Changed: Codable, Sendable, Equatable {
        public var values: [String: ParameterValue]
        public var name: String?
        public var description: String?

        public init(values: [String: ParameterValue], name: String? = nil, description: String? = nil) {
            self.values = values
            self.name = name
            self.description = description
        }
    }

    /// What is known of a group after folding its events.
    public struct State: Codable, Sendable, Equatable {
        public var created: Created?
        public var values: [String: ParameterValue] = [:]
        public var deleted = false
        public var version = 0

        public init() {}

        public var exists: Bool { created != nil && !deleted }
        public var subject: String { "Configuration group \(created?.id ?? "")" }
    }

    /// What users ask of a group. Values arrive already checked against the datastore's parameters.
    public enum Command: Sendable, Equatable {
        case create(Created)
        /// `PATCH`: these values are added or replace the same names.
        case merge(values: [String: ParameterValue])
        /// `PUT`: the group's values become exactly these.
        case replace(values: [String: ParameterValue], name: String?, description: String?)
        /// `DELETE`; `attachedInstances` is how many instances use the group now.
        case delete(attachedInstances: Int)
    }

    /// The events `command` produces, or why it is refused.
    public static func decide(_ command: Command, state: State) throws(Rejection) -> [Event] {
        if case .create(let created) = command {
            if state.created != nil { throw .notAllowedInState("\(state.subject) already exists") }
            let name = created.name.trimmingCharacters(in: .whitespacesAndNewlines)
            try require(!name.isEmpty, "The configuration group name must not be empty")
            try require(name.count <= 255, "The configuration group name must be at most 255 characters")
            var clean = created
            clean.name = name
            return [.configurationGroupCreated(clean)]
        }
        guard state.exists else { throw .notFound("\(state.subject) could not be found") }
        switch command {
        case .create: return []
        case .merge(let values):
            try require(!values.isEmpty, "Give at least one value to change")
            return [.configurationGroupChanged(Changed(values: state.values.merging(values) { $1 }))]
        case .replace(let values, let name, let description):
            if let name {
                let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
                try require(!trimmed.isEmpty && trimmed.count <= 255, "The configuration group name must be 1 to 255 characters")
                return [.configurationGroupChanged(Changed(values: values, name: trimmed, description: description))]
            }
            return [.configurationGroupChanged(Changed(values: values, name: nil, description: description))]
        case .delete(let attached):
            if attached > 0 {
                throw .notAllowedInState("\(state.subject) is attached to \(attached) instance(s); detach it before deleting it")
            }
            return [.configurationGroupDeleted]
        }
    }

    /// `state` after `event`.
    public static func evolve(_ state: State, _ event: Event) -> State {
        var next = state
        next.version += 1
        switch event {
        case .configurationGroupCreated(let created):
            next.created = created
            next.values = created.values
        case .configurationGroupChanged(let changed):
            next.values = changed.values
            if let name = changed.name { next.created?.name = name }
            if let description = changed.description { next.created?.description = description }
        case .configurationGroupDeleted:
            next.deleted = true
        }
        return next
    }

    /// The state of a stream holding `events`.
    public static func replay(_ events: [Event]) -> State { events.reduce(State()) { evolve($0, $1) } }
}

extension ConfigurationGroup.Event: DomainEvent {}

/// A configuration group has no statechart: it exists, changes, and is deleted.
extension ConfigurationGroup: EventSourced {
    public static func initialState(_ rules: NoRules) -> State { State() }

    public static func applying(_ event: Event, to state: State, _ rules: NoRules) -> State { evolve(state, event) }

    public static func deciding(_ command: Command, on state: State, _ rules: NoRules, at now: Date) throws(Rejection) -> [Event] {
        try decide(command, state: state)
    }

    public static func stamped(_ state: State, version: Int) -> State {
        var stamped = state
        stamped.version = version
        return stamped
    }
}
