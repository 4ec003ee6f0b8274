/// Quoting for the statements PostgreSQL cannot take as parameters (DDL: CREATE DATABASE, CREATE ROLE ...).
enum SQLText {
    /// `"name"` with embedded quotes doubled.
    static func identifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    /// `'text'` with embedded quotes doubled (standard_conforming_strings is on, so backslashes are plain).
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    /// Names the guest accepts: what the API accepts (1-63 bytes of letters, digits, `_`, `-`, starting with a
    /// letter or `_`), checked again here because anything can reach the bus.
    static func isValidName(_ name: String) -> Bool {
        name.utf8.count <= 63 && !name.isEmpty
            && name.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } == true
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    /// Encodings and collations: letters, digits, `_`, `-`, `.`, `@`.
    static func isValidSetting(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 64 && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.@".contains($0)) }
    }
}
