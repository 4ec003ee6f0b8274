import Foundation

/// A JSON document as parsed, for checks that must see every member before a route's type decodes it. Unlike
/// the bus's `JSONValue` it keeps whatever number it meets: integers, other numbers, and numbers no Swift type holds
/// (`1e400`), so one odd number never hides the rest of the document.
public indirect enum JSONTree: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    /// A number neither `Int` nor `Double` can hold.
    case unrepresentable
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Parses `bytes`; nil when they are not JSON.
    public static func parse(_ bytes: some Collection<UInt8>) -> JSONTree? {
        try? JSONDecoder().decode(JSONTree.self, from: Data(bytes))
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self) {
            var members: [String: JSONTree] = [:]
            for key in keyed.allKeys { members[key.stringValue] = try keyed.decode(JSONTree.self, forKey: key) }
            self = .object(members)
        } else if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [JSONTree] = []
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(JSONTree.self)) }
            self = .array(items)
        } else {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() {
                self = .null
            } else if let value = try? single.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? single.decode(String.self) {
                self = .string(value)
            } else if let value = try? single.decode(Int.self) {
                self = .integer(value)
            } else if let value = try? single.decode(Double.self) {
                self = .number(value)
            } else {
                self = .unrepresentable
            }
        }
    }

    /// Encodes the document; an `unrepresentable` number is written as `null` (it has no JSON of its own left).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null, .unrepresentable: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let items): try container.encode(items)
        case .object(let members): try container.encode(members)
        }
    }

    /// The first non-nil `check(path, value)` over every value, parents before their members, members in name
    /// order; paths read `instance.users[0].name` (the root's is empty).
    public func first<T>(at path: String = "", _ check: (_ path: String, _ value: JSONTree) -> T?) -> T? {
        if let found = check(path, self) { return found }
        switch self {
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = item.first(at: "\(path)[\(index)]", check) { return found }
            }
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if let found = member.first(at: path.isEmpty ? key : "\(path).\(key)", check) { return found }
            }
        case .null, .bool, .integer, .number, .unrepresentable, .string:
            break
        }
        return nil
    }
}
