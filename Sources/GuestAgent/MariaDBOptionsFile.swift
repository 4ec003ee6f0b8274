import Bus
import Lifecycle

/// The options file through which Cellar configures a MariaDB server (`my.cnf`, the only one it reads),
/// rendered from values only (no I/O).
struct MariaDBOptionsFile: Equatable {
    var dataDirectory: String
    var socket: String
    var pidFile: String
    var errorLog: String
    var address: String
    var port: Int
    /// The flavor's memory: the InnoDB buffer pool gets a quarter of it.
    var memoryMB: Int
    /// The attached configuration group's values, after Cellar's own settings (so the group's win).
    var overrides: [String: ParameterValue]

    /// Cellar's own tunable settings (a group may override them; detaching brings them back).
    var tunedSettings: [(name: String, value: String)] {
        [("innodb_buffer_pool_size", "\(max(32, memoryMB / 4) * 1_048_576)"), ("max_connections", "100")]
    }

    var text: String {
        """
        # Written by the Cellar guest agent.
        [mysqld]
        datadir = \(dataDirectory)
        socket = \(socket)
        pid-file = \(pidFile)
        log-error = \(errorLog)
        bind-address = \(address)
        port = \(port)
        skip-name-resolve
        character-set-server = utf8mb4
        collation-server = utf8mb4_general_ci

        """ + tunedSettings.map { "\($0.name) = \($0.value)\n" }.joined() + Self.overridesSection(overrides)
    }

    /// The group's values as option lines (names with `-` or `_` alike to the server).
    static func overridesSection(_ values: [String: ParameterValue]) -> String {
        guard !values.isEmpty else { return "" }
        let lines = values.keys.sorted().map { "\($0) = \(optionValue(values[$0]!))" }
        return "# The attached configuration group\n" + lines.joined(separator: "\n") + "\n"
    }

    /// A value as the options file (and `SET GLOBAL`, quoted there) takes it: booleans as ON/OFF.
    static func optionValue(_ value: ParameterValue) -> String {
        switch value {
        case .boolean(let on): on ? "ON" : "OFF"
        default: value.description
        }
    }
}
