import Crypto
import Foundation

extension SecretBox {
    /// The key of one guest, derived from this box's key (HKDF-SHA256, the guest's id as info): the task
    /// manager seals a guest's passwords with it, and only that guest, which gets it in a file of its own folder
    /// at allocation, can open them. Deriving it means nothing new is stored, and a guest restarted on another
    /// day gets the same key.
    public func guestKey(for guestID: String) -> String {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("cellar-guest/\(guestID)".utf8), outputByteCount: 32)
        return derived.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// The password of the guest's own broker user, derived like its key (so it is the same after any restart
    /// and stored nowhere); letters, digits, `-` and `_` only, to sit in a URL as it is.
    public func guestBrokerPassword(for guestID: String) -> String {
        guestKey(for: "broker/\(guestID)").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A box under the key of guest `guestID` (see `guestKey(for:)`).
    public func guestBox(for guestID: String) throws -> SecretBox {
        try SecretBox(base64Key: guestKey(for: guestID))
    }
}

/// A password sealed for one guest: what crosses the bus and rests in the broker's files instead of the password.
/// It prints as `<sealed>`, so a log line never shows even the sealed form.
public struct SealedPassword: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Nonce, ciphertext and tag, base64.
    public var sealed: String

    /// `password` sealed with `box`, bound to `purpose` (e.g. `user:app`), which opening must name again.
    public init(_ password: String, purpose: String, box: SecretBox) throws {
        sealed = try box.seal(password, context: purpose)
    }

    /// The password, if it was sealed with `box` for `purpose`.
    public func open(purpose: String, box: SecretBox) throws -> String {
        try box.open(sealed, context: purpose)
    }

    public init(from decoder: any Decoder) throws { sealed = try decoder.singleValueContainer().decode(String.self) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(sealed)
    }

    public var description: String { "<sealed>" }
}
