import Bus
import Foundation
import GuestProtocol
import LocalServers
import Secrets

/// SQL to the instance's MariaDB as its administrator (the guest's own account, over the socket only, which the
/// guest and the server alone can reach), through the `mariadb` command-line client: statements go on its
/// stdin, never on a command line. Passwords never go into the SQL (`passwordHash(of:)` does instead).
struct MariaDBClient: Sendable {
    let socket: String
    /// The account: the guest's own (named as its OS user, `unix_socket`), or the install's `root` once.
    var user: String = Self.processUser

    /// The OS user this process runs as.
    static let processUser = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "root"

    static let executable = "/usr/bin/mariadb"

    /// The session's quoting rules, whatever a configuration group sets globally: `literal(_:)` escapes with
    /// backslashes, which `NO_BACKSLASH_ESCAPES` would make plain characters (and `ANSI_QUOTES` turns `"` into
    /// an identifier quote). Set first in every batch.
    static let sessionQuoting =
        "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION';\n"

    /// Runs `sql` (one or more statements); returns the result rows of the last one, tab-separated fields.
    @discardableResult
    func run(_ sql: String) throws -> [[String]] {
        do {
            let output = try CommandRunner.run(
                Self.executable,
                [
                    "--no-defaults", "--socket=\(socket)", "--user=\(user)", "--batch", "--skip-column-names", "--connect-timeout=5",
                ], input: Data((Self.sessionQuoting + sql).utf8))
            return output.split(separator: "\n", omittingEmptySubsequences: true).map {
                $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            }
        } catch let failure as CommandFailure {
            let message = failure.output.split(separator: "\n").first.map(String.init) ?? "exit status \(failure.status)"
            throw RemoteFailure(type: "DatastoreError", message: message)
        }
    }

    /// True when the server takes SQL (an account it refuses still shows it is up).
    func answers() -> Bool {
        do { try run("SELECT 1") } catch let failure as RemoteFailure { return failure.message.contains("Access denied") } catch { return false }
        return true
    }

    /// True when the statement returns at least one row.
    func exists(_ sql: String) throws -> Bool { try !run(sql).isEmpty }

    /// `` `name` `` with embedded backticks doubled.
    static func identifier(_ name: String) -> String { "`" + name.replacingOccurrences(of: "`", with: "``") + "`" }

    /// `'text'` with backslashes and quotes escaped (the server's default sql_mode treats `\` as an escape).
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// `PASSWORD '<mysql_native_password hash>'`, for `IDENTIFIED BY`: hex digits only, so no quoting rule and
    /// no statement log can expose or break the password.
    static func passwordHash(of password: String) -> String { "PASSWORD '\(PasswordVerifier.mysqlNativePassword(password))'" }

    /// `'name'@'host'`.
    static func account(_ name: String, _ host: String) -> String { "\(literal(name))@\(literal(host))" }
}
