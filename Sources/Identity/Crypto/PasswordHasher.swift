import Crypto
import Foundation
import _CryptoExtras

/// Salted, slow password hashes: PBKDF2-HMAC-SHA256, stored as `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`.
///
/// The iteration count is part of each stored hash, so a hash keeps verifying after the default changes.
public struct PasswordHasher: Sendable {
    /// OWASP's figure for PBKDF2-HMAC-SHA256, and the minimum swift-crypto's checked API accepts.
    public static let defaultIterations = 210_000
    /// Stored hashes with fewer iterations are refused (a corrupted or tampered row must not verify cheaply).
    public static let minimumIterations = 1_000
    /// Longer passwords are refused outright, as Keystone's `max_password_length` does.
    public static let maximumPasswordBytes = 4096

    /// How many PBKDF2 rounds new hashes use.
    public let iterations: Int

    /// - Parameter iterations: rounds for new hashes; tests may pass fewer to stay fast, never below `minimumIterations`.
    public init(iterations: Int = PasswordHasher.defaultIterations) {
        precondition(iterations >= Self.minimumIterations, "PBKDF2 iterations below \(Self.minimumIterations)")
        self.iterations = iterations
    }

    /// A new salted hash of `password`, in the stored format.
    public func hash(_ password: String) throws -> String {
        guard password.utf8.count <= Self.maximumPasswordBytes else { throw IdentityError.invalidPassword }
        let salt = SecureRandom.bytes(16)
        let derived = try Self.derive(password, salt: salt, iterations: iterations)
        return "pbkdf2-sha256$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// Whether `password` matches `stored`; false for a malformed stored value. Compares in constant time.
    public func verify(_ password: String, against stored: String) -> Bool {
        guard password.utf8.count <= Self.maximumPasswordBytes else { return false }
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256",
            let rounds = Int(parts[1]), rounds >= Self.minimumIterations, rounds <= 100_000_000,
            let salt = Data(base64Encoded: String(parts[2])), !salt.isEmpty,
            let expected = Data(base64Encoded: String(parts[3])), expected.count == 32,
            let derived = try? Self.derive(password, salt: Array(salt), iterations: rounds)
        else { return false }
        return ConstantTime.equal(derived, Array(expected))
    }

    /// Spends the same time as verifying a real hash, so an unknown user answers as slowly as a wrong password.
    public func verifyDummy(_ password: String) {
        _ = try? Self.derive(password, salt: Self.dummySalt, iterations: iterations)
    }

    private static let dummySalt: [UInt8] = Array(repeating: 0x5a, count: 16)

    private static func derive(_ password: String, salt: [UInt8], iterations: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations)
        return key.withUnsafeBytes { Array($0) }
    }
}

/// Comparisons whose time does not depend on where the inputs differ.
enum ConstantTime {
    /// True when both byte arrays are equal; the length check is the only early exit.
    static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
