import Crypto
import Foundation

/// Seals secrets (user and root passwords) for the guest with AES-256-GCM under a key from configuration, so
/// they are never stored in clear; the event log does not hold them at all (see `pending_secrets`).
public struct SecretBox: Sendable {
    let key: SymmetricKey

    /// A key given as 32 bytes in base64 (`CELLAR_SECRET_KEY`).
    public init(base64Key: String) throws {
        guard let data = Data(base64Encoded: base64Key.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
            throw InvalidSecretKey()
        }
        key = SymmetricKey(data: data)
    }

    /// A new random key, base64, for a configuration that has none yet.
    public static func generateKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// `secret` sealed (nonce, ciphertext and tag), base64; `context` (e.g. the stream and name) is bound to it.
    public func seal(_ secret: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(secret.utf8), using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw InvalidSecretKey() }
        return combined.base64EncodedString()
    }

    /// The secret back, if it was sealed under this key with this context.
    public func open(_ sealed: String, context: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw InvalidSecretKey() }
        let box = try AES.GCM.SealedBox(combined: data)
        return String(decoding: try AES.GCM.open(box, using: key, authenticating: Data(context.utf8)), as: UTF8.self)
    }

    public struct InvalidSecretKey: Error, CustomStringConvertible {
        public var description: String { "CELLAR_SECRET_KEY must be 32 random bytes in base64 (cellar up creates one)" }
    }
}
