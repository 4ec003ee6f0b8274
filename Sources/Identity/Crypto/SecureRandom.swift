import Crypto
import Foundation

/// Random values from the operating system's CSPRNG (`SystemRandomNumberGenerator`).
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 7)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes.prefix(count))
    }

    /// A Keystone-style id: 32 lowercase hex characters (128 random bits).
    public static func identifier() -> String { hex(bytes(16)) }

    /// A bearer token: 32 random bytes, base64url without padding (43 characters).
    public static func token() -> String { base64URL(bytes(32)) }

    /// A Keystone-style audit id: 16 random bytes, base64url without padding (22 characters).
    public static func auditID() -> String { base64URL(bytes(16)) }

    /// A strong generated password: 24 characters from 62 letters and digits (about 143 bits).
    public static func password(length: Int = 24) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// The SHA-256 of a token as lowercase hex: the only form in which tokens are stored.
    public static func tokenHash(_ token: String) -> String { hex(Array(SHA256.hash(data: Array(token.utf8)))) }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
