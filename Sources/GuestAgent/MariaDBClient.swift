import Bus
import Foundation
import GuestProtocol
import LocalServers

/// SQL to the instance's MariaDB as its administrator (`root@localhost`, over the socket only, which the
/// guest and the server alone can reach), through the `mariadb` command-line client: statements go on its
/// stdin, never on a command line, and a failure never repeats a password it was given.
struct MariaDBClient: Sendable {
    let socket: String

    static let executable = "/usr/bin/mariadb"

    /// Runs `sql` (one or more statements); returns the result rows of the last one, tab-separated fields.
    /// `secrets` are replaced by `***` in any error.
    @discardableResult
    func run(_ sql: String, secrets: [String] = []) throws -> [[String]] {
        do {
            let output = try CommandRunner.run(Self.executable, [
                "--no-defaults", "--socket=\(socket)", "--user=root", "--batch", "--skip-column-names", "--connect-timeout=5",
            ], input: Data(sql.utf8))
            return output.split(separator: "\n", omittingEmptySubsequences: true).map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        } catch let failure as CommandFailure {
            var message = failure.output.split(separator: "\n").first.map(String.init) ?? "exit status \(failure.status)"
            for secret in secrets where !secret.isEmpty { message = message.replacingOccurrences(of: secret, with: "***") }
            throw RemoteFailure(type: "DatastoreError", message: message)
        }
    }

    /// True when the statement returns at least one row.
    func exists(_ sql: String) throws -> Bool { try !run(sql).isEmpty }

    /// `` `name` `` with embedded backticks doubled.
    static func identifier(_ name: String) -> String { "`" + name.replacingOccurrences(of: "`", with: "``") + "`" }

    /// `'text'` with backslashes and quotes escaped (the server's default sql_mode treats `\` as an escape).
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// `'name'@'host'`.
    static func account(_ name: String, _ host: String) -> String { "\(literal(name))@\(literal(host))" }
}
