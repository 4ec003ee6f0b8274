/// Quoting for the statements PostgreSQL cannot take as parameters (DDL: CREATE DATABASE, CREATE ROLE ...).
enum SQLText {
    /// `"name"` with embedded quotes doubled.
    static func identifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    /// `'text'` with embedded quotes doubled (standard_conforming_strings is on, so backslashes are plain).
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    /// Encodings and collations: letters, digits, `_`, `-`, `.`, `@`.
    static func isValidSetting(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 64 && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.@".contains($0)) }
    }
}
