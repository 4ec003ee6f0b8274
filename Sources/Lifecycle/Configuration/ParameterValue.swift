import Foundation

/// One configuration value as JSON carries it: `200`, `0.5`, `true` or `"on"`.
public enum ParameterValue: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    case integer(Int64)
    case real(Double)
    case boolean(Bool)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .boolean(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .real(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a configuration value is a number, a boolean or a string")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let value): try container.encode(value)
        case .real(let value): try container.encode(value)
        case .boolean(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        }
    }

    /// As a person (and a configuration file, before quoting) writes it.
    public var description: String {
        switch self {
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .boolean(let value): value ? "on" : "off"
        case .string(let value): value
        }
    }
}
