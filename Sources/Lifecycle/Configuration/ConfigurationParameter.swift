import Foundation

/// A datastore setting users may put in a configuration group, as the datastore's own server describes it
/// (PostgreSQL: `pg_settings`). Values are checked against it before anything is recorded.
public struct ConfigurationParameter: Codable, Sendable, Equatable {
    /// Trove's parameter types.
    public enum Kind: String, Codable, Sendable {
        case integer, float, boolean, string
    }

    /// The setting's name, e.g. `work_mem`.
    public var name: String
    public var type: Kind
    /// Bounds of integer and float settings.
    public var min: Double?
    public var max: Double?
    /// The allowed values of an enumerated setting (empty: any string).
    public var allowedValues: [String]
    /// Whether a new value takes effect only after a restart.
    public var restartRequired: Bool
    /// The unit of integer values (`kB`, `ms`, `8kB`, ...), as the server counts them.
    public var unit: String?
    public var description: String

    public init(
        name: String, type: Kind, min: Double? = nil, max: Double? = nil, allowedValues: [String] = [],
        restartRequired: Bool, unit: String? = nil, description: String = ""
    ) {
        self.name = name
        self.type = type
        self.min = min
        self.max = max
        self.allowedValues = allowedValues
        self.restartRequired = restartRequired
        self.unit = unit
        self.description = description
    }

    /// `value` in the parameter's own type, or why it does not fit (the message names the parameter).
    public func validated(_ value: ParameterValue) throws(Rejection) -> ParameterValue {
        switch (type, value) {
        case (.integer, .integer(let number)):
            try checkRange(Double(number), shown: String(number))
            return value
        case (.integer, .real(let number)) where number.rounded() == number && abs(number) < 9.2e18:
            try checkRange(number, shown: String(Int64(number)))
            return .integer(Int64(number))
        case (.float, .integer(let number)):
            try checkRange(Double(number), shown: String(number))
            return .real(Double(number))
        case (.float, .real(let number)):
            try checkRange(number, shown: String(number))
            return value
        case (.boolean, .boolean):
            return value
        case (.boolean, .string(let text)):
            // PostgreSQL's own spellings of a boolean; stored as true/false.
            switch text.lowercased() {
            case "on", "true", "yes", "1": return .boolean(true)
            case "off", "false", "no", "0": return .boolean(false)
            default: throw .invalidInput("The value \"\(text)\" of parameter \(name) is not a boolean (true or false)")
            }
        case (.boolean, .integer(let number)) where number == 0 || number == 1:
            return .boolean(number == 1)
        case (.string, .string(let text)):
            try require(!text.contains("\n") && !text.contains("\0"), "The value of parameter \(name) must be a single line")
            if !allowedValues.isEmpty, !allowedValues.contains(text) {
                throw .invalidInput("The value \"\(text)\" of parameter \(name) is not one of: \(allowedValues.joined(separator: ", "))")
            }
            return value
        default:
            throw .invalidInput("The value \(value) of parameter \(name) has the wrong type; \(name) takes \(typeDescription)")
        }
    }

    private var typeDescription: String {
        switch type {
        case .integer: "an integer" + (unit.map { " (in \($0))" } ?? "")
        case .float: "a number"
        case .boolean: "a boolean (true or false)"
        case .string: allowedValues.isEmpty ? "a string" : "one of: \(allowedValues.joined(separator: ", "))"
        }
    }

    private func checkRange(_ number: Double, shown: String) throws(Rejection) {
        if let min, number < min {
            throw .invalidInput("The value \(shown) of parameter \(name) is below its minimum \(Self.format(min))")
        }
        if let max, number > max {
            throw .invalidInput("The value \(shown) of parameter \(name) is above its maximum \(Self.format(max))")
        }
    }

    static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}

extension Array where Element == ConfigurationParameter {
    /// `values` checked against these parameters: unknown names and bad values are refused, naming the parameter.
    public func validated(_ values: [String: ParameterValue]) throws(Rejection) -> [String: ParameterValue] {
        var checked: [String: ParameterValue] = [:]
        for name in values.keys.sorted() {
            guard let parameter = first(where: { $0.name == name }) else {
                throw .invalidInput("The parameter \(name) is not a configurable parameter of this datastore version")
            }
            checked[name] = try parameter.validated(values[name]!)
        }
        return checked
    }
}
