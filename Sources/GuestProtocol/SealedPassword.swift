/// A password sealed for one guest (AES-256-GCM under that guest's own key, see `SecretBox.guestKey`): what
/// crosses the bus and rests in the broker's files instead of the password. It prints as `<sealed>`, so a log
/// line never shows even the sealed form.
public struct SealedPassword: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Nonce, ciphertext and tag, base64.
    public var sealed: String

    public init(sealed: String) { self.sealed = sealed }

    /// What a user's password is bound to when sealed: opening it as another user's fails.
    public static func purpose(user: String) -> String { "user:\(user)" }
    /// What a cluster's replication password is bound to.
    public static let replicationPurpose = "replication"
    /// What the root password is bound to.
    public static let rootPurpose = "root"
    /// What a backup's own key (base64) is bound to.
    public static func backupKeyPurpose(backup: String) -> String { "backup:\(backup)" }

    public init(from decoder: any Decoder) throws { sealed = try decoder.singleValueContainer().decode(String.self) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(sealed)
    }

    public var description: String { "<sealed>" }
}
