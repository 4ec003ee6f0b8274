import Bus
import GuestProtocol
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
    /// The Galera group this server is a member of (nil: standalone).
    var cluster: ClusterSettings? = nil
    /// The account state transfers log in as (the OS user the server runs as, through the socket).
    var transferUser = ""

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

        """ + tunedSettings.map { "\($0.name) = \($0.value)\n" }.joined() + galeraSection + Self.overridesSection(overrides)
            + transferSection
    }

    /// Galera on the instance's own address with the standard ports (4567 group, 4568 incremental transfer,
    /// 4444 full transfer by `mariadb-backup`), as Galera requires: row-based binlog, InnoDB, interleaved
    /// auto-increment locks.
    var galeraSection: String {
        guard let cluster else { return "" }
        let options = "gmcast.listen_addr=tcp://\(address):4567;ist.recv_addr=\(address):4568;base_host=\(address);gcache.size=64M"
        return """
            # Galera: member \(cluster.nodeName) of group \(cluster.name)
            binlog_format = ROW
            default_storage_engine = InnoDB
            innodb_autoinc_lock_mode = 2
            wsrep_on = ON
            wsrep_provider = /usr/lib/galera/libgalera_smm.so
            wsrep_cluster_name = \(Self.groupName(cluster.name))
            wsrep_cluster_address = gcomm://\(cluster.peerAddresses.joined(separator: ","))
            wsrep_node_address = \(address)
            wsrep_node_name = \(cluster.nodeName)
            wsrep_provider_options = "\(options)"
            wsrep_sst_method = mariabackup
            wsrep_sst_auth = \(transferUser):
            wsrep_sst_receive_address = \(address):4444

            """
    }

    /// Galera compares group names of at most 32 bytes: a cluster id without its dashes is exactly that long.
    static func groupName(_ name: String) -> String { String(name.filter { $0 != "-" }.prefix(32)) }

    /// The transfer script's `socat` listens on every address unless told its own; members share a host.
    var transferSection: String {
        guard cluster != nil else { return "" }
        return "\n[sst]\nsockopt = \"bind=\(address)\"\n"
    }

    /// The group's values as option lines (names with `-` or `_` alike to the server).
    static func overridesSection(_ values: [String: ParameterValue]) -> String {
        guard !values.isEmpty else { return "" }
        let lines = values.keys.sorted().map { "\($0) = \(optionValue(values[$0]!))" }
        return "# The attached configuration group\n" + lines.joined(separator: "\n") + "\n"
    }

    /// A value as the options file takes it: booleans as ON/OFF, strings in double quotes with the reader's
    /// escapes (unquoted, a `#` would start a comment and a line break a new option).
    static func optionValue(_ value: ParameterValue) -> String {
        switch value {
        case .boolean(let on): on ? "ON" : "OFF"
        case .string(let text):
            "\""
                + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r") + "\""
        default: value.description
        }
    }
}
