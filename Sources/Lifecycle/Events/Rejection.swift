/// A command refused by `decide`: a small value tests can compare and the API maps to an HTTP answer
/// (invalidInput → 400, notAllowedInState → 422, notFound → 404).
public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of refusal.
    public enum Kind: String, Sendable, Equatable, Codable {
        /// The command's arguments are wrong (empty name, volume size 0, ...).
        case invalidInput
        /// The lifecycle does not allow the command now (the chart refused its events).
        case notAllowedInState
        /// The aggregate does not exist (never created, or deleted).
        case notFound
    }

    /// The class of refusal.
    public let kind: Kind
    /// The message shown to the user.
    public let message: String

    /// Creates a rejection.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// A refusal of the command's arguments.
    public static func invalidInput(_ message: String) -> Rejection { Rejection(.invalidInput, message) }
    /// A refusal because of the current state.
    public static func notAllowedInState(_ message: String) -> Rejection { Rejection(.notAllowedInState, message) }
    /// A refusal because the aggregate does not exist.
    public static func notFound(_ message: String) -> Rejection { Rejection(.notFound, message) }

    /// The message.
    public var description: String { message }
}

/// Throws `.invalidInput(message)` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(Rejection) {
    if !condition { throw .invalidInput(message()) }
}
