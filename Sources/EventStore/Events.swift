import Foundation

/// An event about to be appended: its type name and JSON payloads.
public struct NewEvent: Sendable, Equatable {
    /// Event type, e.g. `InstanceCreateRequested`.
    public var type: String
    /// JSON object with the event's facts. Never a secret in clear.
    public var data: Data
    /// JSON object: actor, request id, correlation and causation ids, schema version.
    public var metadata: Data

    /// Creates an event from already-encoded JSON.
    public init(type: String, data: Data, metadata: Data = Data("{}".utf8)) {
        self.type = type
        self.data = data
        self.metadata = metadata
    }

    /// Creates an event by JSON-encoding `data` and `metadata`.
    public init<D: Encodable>(type: String, data: D, metadata: EventMetadata) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        self.init(type: type, data: try encoder.encode(data), metadata: try encoder.encode(metadata))
    }
}

/// Who caused an event and in which request; stored as the event's `metadata`.
public struct EventMetadata: Codable, Sendable, Equatable {
    /// A user acting through the API.
    public struct Actor: Codable, Sendable, Equatable {
        public var userID: String
        public var projectID: String
        public var roles: [String]
        public init(userID: String, projectID: String, roles: [String]) {
            self.userID = userID
            self.projectID = projectID
            self.roles = roles
        }
        enum CodingKeys: String, CodingKey {
            case userID = "user_id"
            case projectID = "project_id"
            case roles
        }
    }

    /// The user, when a person caused it.
    public var actor: Actor?
    /// The service, when a Cellar process caused it (`taskmanager`, `conductor`, `cli`...).
    public var service: String?
    public var requestID: String?
    public var correlationID: String?
    public var causationID: String?
    public var schemaVersion: Int

    public init(
        actor: Actor? = nil, service: String? = nil, requestID: String? = nil,
        correlationID: String? = nil, causationID: String? = nil, schemaVersion: Int = 1
    ) {
        self.actor = actor
        self.service = service
        self.requestID = requestID
        self.correlationID = correlationID
        self.causationID = causationID
        self.schemaVersion = schemaVersion
    }

    enum CodingKeys: String, CodingKey {
        case actor, service
        case requestID = "request_id"
        case correlationID = "correlation_id"
        case causationID = "causation_id"
        case schemaVersion = "schema_version"
    }
}

/// An event as stored in the log.
public struct RecordedEvent: Sendable, Equatable {
    /// Identity value taken at insert; unique, but not commit order (see `LogPosition`).
    public var globalPosition: Int64
    /// Where the event sits in the log's gap-safe read order.
    public var logPosition: LogPosition
    public var streamID: String
    /// 1, 2, 3... within the stream.
    public var streamVersion: Int
    public var type: String
    public var data: Data
    public var metadata: Data
    public var recordedAt: Date

    /// Decodes the metadata, or nil when it is not Cellar's shape.
    public var decodedMetadata: EventMetadata? { try? JSONDecoder().decode(EventMetadata.self, from: metadata) }

    public init(
        globalPosition: Int64, logPosition: LogPosition, streamID: String, streamVersion: Int, type: String,
        data: Data, metadata: Data, recordedAt: Date
    ) {
        self.globalPosition = globalPosition
        self.logPosition = logPosition
        self.streamID = streamID
        self.streamVersion = streamVersion
        self.type = type
        self.data = data
        self.metadata = metadata
        self.recordedAt = recordedAt
    }

    /// `instance` for `instance-<uuid>`: the aggregate kind named by the stream's prefix.
    public var category: String {
        String(streamID[..<(streamID.utf8.firstIndex(of: UInt8(ascii: "-")) ?? streamID.endIndex)])
    }
}

/// A place in the log's read order: `(transaction id, global position)`.
///
/// Identity values are taken before commit, so position 11 can become visible before 10. Readers therefore order
/// by the writing transaction's id first and only read rows of transactions older than every running one (the
/// snapshot's xmin): below that fence no row can still appear, so nothing is ever skipped.
public struct LogPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// `pg_current_xact_id()` of the appending transaction (xid8).
    public var transactionID: Int64
    /// The event's `global_position`.
    public var globalPosition: Int64

    public init(transactionID: Int64, globalPosition: Int64) {
        self.transactionID = transactionID
        self.globalPosition = globalPosition
    }

    /// Before every event.
    public static let start = LogPosition(transactionID: 0, globalPosition: 0)

    public static func < (lhs: LogPosition, rhs: LogPosition) -> Bool {
        (lhs.transactionID, lhs.globalPosition) < (rhs.transactionID, rhs.globalPosition)
    }

    public var description: String { "\(transactionID):\(globalPosition)" }
}

/// What an append expects the stream's current version to be.
public enum ExpectedVersion: Sendable, Equatable {
    /// The stream must not exist yet.
    case noStream
    /// The stream's last event must have exactly this version.
    case exact(Int)
    /// No check: append after whatever is there.
    case any
}

/// The result of a successful append.
public struct AppendResult: Sendable, Equatable {
    /// The stream's version after the append.
    public var streamVersion: Int
    /// The stored events, in order.
    public var events: [RecordedEvent]
}
