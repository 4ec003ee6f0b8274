import Foundation

/// An event as the event store keeps it: a type name (`event_type`) and a JSON object (`data`).
///
/// Conforming enums are `Codable` as `{"type": "InstanceCreateRequested", "data": {...}}` (the shape of the
/// golden histories); `encodedData()` / `decode(eventType:data:)` give the store's two columns.
public protocol DomainEvent: Codable, Equatable, Sendable {
    /// Every event type name of this aggregate, matching its chart's event names exactly.
    static var eventTypes: [String] { get }
    /// The event type name, e.g. `InstanceCreateRequested`.
    var eventType: String { get }
    /// The payload as a JSON object, without the type; `{}` for events without data.
    func encodedData() throws -> Data
    /// Rebuilds an event from its stored type and payload; an unknown type throws `UnknownEventType`.
    static func decode(eventType: String, data: Data) throws -> Self
}

/// A stored event type this build does not know (e.g. written by a newer version); readers may skip it.
public struct UnknownEventType: Error, Sendable, Equatable, CustomStringConvertible {
    /// The aggregate the stream belongs to, e.g. `Instance`.
    public let aggregate: String
    /// The unknown `event_type`.
    public let eventType: String

    /// Creates the error.
    public init(aggregate: String, eventType: String) {
        self.aggregate = aggregate
        self.eventType = eventType
    }

    /// `unknown Instance event type "Foo"`.
    public var description: String { "unknown \(aggregate) event type \"\(eventType)\"" }
}

/// The payload of events that carry no data; encodes as `{}`.
public struct NoPayload: Codable, Sendable, Equatable {
    /// The empty payload.
    public init() {}
}

/// Where an event payload is decoded from: stored `data` bytes, or the `data` key of an envelope.
protocol EventPayloadSource {
    func decode<Payload: Decodable>(_ type: Payload.Type) throws -> Payload
}

/// The JSON conventions of event payloads: ISO 8601 dates with fractional seconds, sorted keys.
///
/// `encodedData()` and `decode(eventType:data:)` use them; decode `{"type", "data"}` envelopes (golden
/// histories) with `EventJSON.decoder()` too, since nested dates follow the outer coder's strategy.
public enum EventJSON {
    /// An encoder for event payloads and envelopes.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return encoder
    }

    /// A decoder for event payloads and envelopes; accepts dates with or without fractional seconds.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date: \(text)")
        }
        return decoder
    }

    static func encode(_ payload: some Encodable) throws -> Data {
        try encoder().encode(payload)
    }

    /// Payload bytes from the store.
    struct Bytes: EventPayloadSource {
        let data: Data
        func decode<Payload: Decodable>(_ type: Payload.Type) throws -> Payload {
            try EventJSON.decoder().decode(type, from: data)
        }
    }

    /// The `data` key of a `{"type", "data"}` envelope.
    struct Nested: EventPayloadSource {
        let container: KeyedDecodingContainer<EnvelopeKey>
        func decode<Payload: Decodable>(_ type: Payload.Type) throws -> Payload {
            try container.decodeIfPresent(type, forKey: .data) ?? EventJSON.decoder().decode(type, from: Data("{}".utf8))
        }
    }

    enum EnvelopeKey: String, CodingKey {
        case type, data
    }
}

/// The `{"type", "data"}` envelope every event enum uses for `Codable`.
protocol EnvelopedEvent: DomainEvent {
    /// The payload to encode (`NoPayload()` for events without data).
    var payload: any Encodable & Sendable { get }
    /// Rebuilds the event of `eventType` from `source`.
    static func decode(eventType: String, from source: some EventPayloadSource) throws -> Self
}

extension EnvelopedEvent {
    func encodedEnvelope(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: EventJSON.EnvelopeKey.self)
        try container.encode(eventType, forKey: .type)
        try container.encode(payload, forKey: .data)
    }

    static func decodedEnvelope(from decoder: any Decoder) throws -> Self {
        let container = try decoder.container(keyedBy: EventJSON.EnvelopeKey.self)
        let type = try container.decode(String.self, forKey: .type)
        return try decode(eventType: type, from: EventJSON.Nested(container: container))
    }

    /// The payload as JSON, for the store's `data` column.
    public func encodedData() throws -> Data {
        try EventJSON.encode(payload)
    }

    /// Rebuilds an event from the store's `event_type` and `data` columns.
    public static func decode(eventType: String, data: Data) throws -> Self {
        try decode(eventType: eventType, from: EventJSON.Bytes(data: data))
    }
}
