import Secrets

/// Quoting for the statements PostgreSQL cannot take as parameters (DDL: CREATE DATABASE, CREATE ROLE ...).
/// Passwords never go through here: `verifier(of:)` puts their SCRAM verifier in the statement instead.
enum SQLText {
    /// `"name"` with embedded quotes doubled.
    static func identifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// `E'text'` with quotes and backslashes escaped: an escape string reads the same whatever a configuration
    /// group sets `standard_conforming_strings` to (a plain `'...'` changes meaning when it is off).
    static func literal(_ text: String) -> String {
        "E'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// The literal of a password's SCRAM-SHA-256 verifier (base64 and `$:` only), so neither the server's
    /// statement log nor an error ever holds the password.
    static func verifier(of password: String) -> String { "'" + PasswordVerifier.scramSHA256(password) + "'" }

    /// Encodings and collations: letters, digits, `_`, `-`, `.`, `@`.
    static func isValidSetting(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 64 && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.@".contains($0)) }
    }
}
