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

/// What a password handed to a guest is kept under between the API and the task manager (`pending_secrets.name`,
/// and the sealing context): one user account's, or root's. Its `key` is the only spelling of that name.
public enum SecretName: Hashable, Sendable, CustomStringConvertible {
    /// The password of a database account (`user:<name>@<host>`).
    case user(Instance.UserAccount)
    /// The root password (`root`).
    case root

    /// What every user password's key starts with (to forget them all at once).
    public static let userKeyPrefix = "user:"

    /// The stored name: `user:<name>@<host>` or `root`.
    public var key: String {
        switch self {
        case .user(let account): "\(Self.userKeyPrefix)\(account.name)@\(account.host)"
        case .root: "root"
        }
    }

    /// The name a stored key spells (nil: none Cellar writes). Names have no `@`; hosts may.
    public init?(key: String) {
        if key == "root" {
            self = .root
            return
        }
        guard key.hasPrefix(Self.userKeyPrefix) else { return nil }
        let account = key.dropFirst(Self.userKeyPrefix.count)
        guard let at = account.firstIndex(of: "@") else { return nil }
        self = .user(Instance.UserAccount(name: String(account[..<at]), host: String(account[account.index(after: at)...])))
    }

    /// The password of `name@host`.
    public static func user(_ name: String, host: String) -> SecretName { .user(Instance.UserAccount(name: name, host: host)) }

    public var description: String { key }
}
