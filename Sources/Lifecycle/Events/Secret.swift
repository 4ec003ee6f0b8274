/// A password on its way to a guest. It is not `Codable` and prints as `<secret>`, so it cannot end up in an
/// event, a log line or a test failure by accident; events record only that a secret was set.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    /// Wraps a password.
    public init(_ value: String) {
        self.value = value
    }

    /// The password itself, for the one place that hands it to the guest (encrypted or over the bus).
    public var revealed: String { value }

    /// Whether the password is empty.
    public var isEmpty: Bool { value.isEmpty }

    /// `<secret>`.
    public var description: String { "<secret>" }
    /// `<secret>`.
    public var debugDescription: String { "<secret>" }
    /// No children: `dump` shows nothing of the value.
    public var customMirror: Mirror { Mirror(self, children: []) }
}
