import Crypto
import Foundation
import _CryptoExtras

/// What a database server stores instead of a password, computed here so the password itself never appears in
/// SQL text (where a statement log, an error message or a changed quoting rule could expose or break it). The
/// verifiers use only characters that need no escaping in any quoting mode.
public enum PasswordVerifier {
    /// PostgreSQL's SCRAM-SHA-256 verifier (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, as
    /// `pg_authid.rolpassword` holds it; RFC 5802 / RFC 7677). `ALTER ROLE ... PASSWORD '<verifier>'` stores it
    /// as is, and clients log in with the password as usual.
    public static func scramSHA256(_ password: String, salt: [UInt8]? = nil, iterations: Int = 4096) -> String {
        let salt = salt ?? randomBytes(16)
        let prepared = Array(SASLprep.prepare(password).utf8)
        let salted =
            (try? KDF.Insecure.PBKDF2.deriveKey(
                from: prepared, salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations))
            .map { key in key.withUnsafeBytes { SymmetricKey(data: Data($0)) } } ?? SymmetricKey(data: Data())
        let clientKey = Data(HMAC<SHA256>.authenticationCode(for: Data("Client Key".utf8), using: salted))
        let storedKey = Data(SHA256.hash(data: clientKey))
        let serverKey = Data(HMAC<SHA256>.authenticationCode(for: Data("Server Key".utf8), using: salted))
        return "SCRAM-SHA-256$\(iterations):\(Data(salt).base64EncodedString())$\(storedKey.base64EncodedString()):\(serverKey.base64EncodedString())"
    }

    /// MariaDB's `mysql_native_password` hash (`*` and 40 upper-case hex digits: SHA1(SHA1(password))), for
    /// `IDENTIFIED BY PASSWORD '<hash>'`.
    public static func mysqlNativePassword(_ password: String) -> String {
        let inner = Data(Insecure.SHA1.hash(data: Data(password.utf8)))
        let outer = Insecure.SHA1.hash(data: inner)
        return "*" + outer.map { String(format: "%02X", $0) }.joined()
    }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

/// RFC 4013 SASLprep as PostgreSQL applies it to SCRAM passwords (`pg_saslprep`): ASCII passes unchanged;
/// otherwise non-ASCII spaces become spaces, "mapped to nothing" characters go, and the result is NFKC-normalized.
/// A password with a prohibited character is used as given, as PostgreSQL and libpq both do.
enum SASLprep {
    static func prepare(_ password: String) -> String {
        if password.unicodeScalars.allSatisfy(\.isASCII) { return password }
        var mapped = String.UnicodeScalarView()
        for scalar in password.unicodeScalars {
            if nonASCIISpaces.contains(scalar.value) { mapped.append(" ") } else if !mappedToNothing.contains(scalar.value) { mapped.append(scalar) }
        }
        let normalized = String(mapped).precomposedStringWithCompatibilityMapping
        if normalized.isEmpty || normalized.unicodeScalars.contains(where: isProhibited) { return password }
        return normalized
    }

    /// RFC 3454 C.1.2.
    static let nonASCIISpaces: Set<UInt32> = [
        0x00A0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
        0x2007, 0x2008, 0x2009, 0x200A, 0x200B, 0x202F, 0x205F, 0x3000,
    ]
    /// RFC 3454 B.1.
    static let mappedToNothing: Set<UInt32> = [
        0x00AD, 0x034F, 0x1806, 0x180B, 0x180C, 0x180D, 0x200B, 0x200C, 0x200D,
        0x2060, 0xFE00, 0xFE01, 0xFE02, 0xFE03, 0xFE04, 0xFE05, 0xFE06, 0xFE07,
        0xFE08, 0xFE09, 0xFE0A, 0xFE0B, 0xFE0C, 0xFE0D, 0xFE0E, 0xFE0F, 0xFEFF,
    ]

    /// RFC 3454 C.2-C.9 (controls, private use, non-characters, surrogates, tagging and change-display characters).
    static func isProhibited(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        switch value {
        case 0x0000...0x001F, 0x007F...0x009F, 0x06DD, 0x070F, 0x180E, 0x200C, 0x200D, 0x2028, 0x2029,
            0x2060...0x2063, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFD, 0x1D173...0x1D17A,
            0xE000...0xF8FF, 0xF0000...0xFFFFD, 0x100000...0x10FFFD, 0xFDD0...0xFDEF,
            0x0340, 0x0341, 0x200E, 0x200F, 0x202A...0x202E, 0x2FF0...0x2FFB, 0xE0001, 0xE0020...0xE007F:
            return true
        default:
            return value & 0xFFFE == 0xFFFE
        }
    }
}
