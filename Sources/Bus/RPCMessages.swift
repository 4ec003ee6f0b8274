import EventStore
import Foundation

/// A command to a guest agent: the versioned envelope every RPC body carries.
public struct RPCRequest: Codable, Sendable, Equatable {
    /// e.g. `prepare`, `create_database`.
    public var method: String
    public var args: JSONValue
    /// Envelope version; a guest refuses versions it does not know.
    public var version: String
    /// Unique per request; guests use it to make repeated requests harmless.
    public var messageID: String
    public var sentAt: Date
    /// Set by the server (not sent): the broker delivered this request before, to a consumer that died or lost
    /// its connection without answering; its caller may have given up on it since.
    public var redelivered = false

    public init(method: String, args: JSONValue, version: String = RPCRequest.currentVersion, messageID: String, sentAt: Date) {
        self.method = method
        self.args = args
        self.version = version
        self.messageID = messageID
        self.sentAt = sentAt
    }

    public static let currentVersion = "1.0"

    enum CodingKeys: String, CodingKey {
        case method, args, version
        case messageID = "message_id"
        case sentAt = "sent_at"
    }
}

/// The answer to a call: a result, or what went wrong on the remote side.
public struct RPCReply: Codable, Sendable, Equatable {
    public var result: JSONValue?
    public var failure: RemoteFailure?

    public static func success(_ result: JSONValue) -> RPCReply { RPCReply(result: result, failure: nil) }
    public static func failed(_ failure: RemoteFailure) -> RPCReply { RPCReply(result: nil, failure: failure) }
}

/// A failure reported by the remote side of a call.
public struct RemoteFailure: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// The remote error's kind, e.g. `InvalidDatabaseName`.
    public var type: String
    public var message: String

    public init(type: String, message: String) {
        self.type = type
        self.message = message
    }

    public var description: String { "\(type): \(message)" }
}

/// No reply arrived in time.
public struct RPCTimeout: Error, Equatable, CustomStringConvertible {
    public var destination: String
    public var method: String
    public var timeout: Duration
    public var description: String { "\(destination) did not answer \(method) within \(timeout)" }
}

extension JSONEncoder {
    /// How bodies on the bus are written (ISO 8601 dates, sorted keys).
    public static let rpc: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
}

extension JSONDecoder {
    /// How bodies on the bus are read.
    public static let rpc: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
