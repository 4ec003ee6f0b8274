import Lifecycle

/// The files through which Cellar configures a PostgreSQL server, rendered from values only (no I/O):
/// `cellar.conf`, included from `postgresql.conf`, and `pg_hba.conf`.
struct PostgreSQLConfigurationFiles: Equatable {
    var address: String
    var port: Int
    var socketDirectory: String
    /// The flavor's memory: shared buffers a quarter of it, effective cache three quarters.
    var memoryMB: Int
    /// Written as `cellar.generation`: a new session that sees it knows the server read this file.
    var generation: Int
    /// The attached configuration group's values, after Cellar's own settings (so the group's win).
    var overrides: [String: ParameterValue]
    /// Client networks allowed over TCP (empty: any).
    var allowedCidrs: [String]
    /// The guest's own superuser, allowed over the socket only.
    var adminUser: String
    /// An active-passive member: what replication needs on every member (any of them may be the primary).
    var replication: Replication? = nil

    /// Replication settings of an active-passive member.
    struct Replication: Equatable {
        /// The members' addresses: only they may connect as the replication account.
        var peerAddresses: [String]
        /// The standbys a commit waits for, by slot name, in order of preference (`FIRST 1`); empty: asynchronous.
        var synchronousStandbys: [String]
    }

    /// The replication account every member's standbys connect as.
    static let replicationUser = "os_replicator"

    /// `cellar.conf`.
    var settings: String {
        """
        listen_addresses = '\(address)'
        port = \(port)
        unix_socket_directories = '\(socketDirectory)'
        unix_socket_permissions = 0700
        password_encryption = 'scram-sha-256'
        shared_buffers = '\(max(32, memoryMB / 4))MB'
        effective_cache_size = '\(max(64, memoryMB * 3 / 4))MB'
        max_connections = 100
        log_line_prefix = '%m [%p] %u@%d '
        cellar.generation = '\(generation)'

        """ + replicationSection + Self.overridesSection(overrides)
    }

    /// Streaming replication: WAL kept for standbys that fall behind, hints for a rewind, hot standby reads, the
    /// synchronous standbys; where this member replicates from is in `cellar-replication.conf` (written when its
    /// role changes, with the replication password, so the rest can be rewritten without it).
    var replicationSection: String {
        guard let replication else { return "" }
        let synchronous =
            replication.synchronousStandbys.isEmpty
            ? "''"
            : "'FIRST 1 (\(replication.synchronousStandbys.map { "\"\($0)\"" }.joined(separator: ", ")))'"
        return """
            wal_level = replica
            wal_log_hints = on
            wal_keep_size = '128MB'
            max_wal_senders = 10
            max_replication_slots = 10
            hot_standby = on
            hot_standby_feedback = on
            wal_receiver_status_interval = '1s'
            synchronous_standby_names = \(synchronous)
            include_if_exists 'cellar-replication.conf'

            """
    }

    /// `cellar-replication.conf` of a standby: its primary and its slot there (both reloadable; a standby follows
    /// its primary's newest timeline by default, so nothing here needs a restart to go away after a promotion).
    static func standbySettings(primaryAddress: String, port: Int, password: String, slotName: String) -> String {
        let conninfo =
            "host=\(primaryAddress) port=\(port) user=\(replicationUser) password=\(password) application_name=\(slotName) connect_timeout=2"
        return """
            primary_conninfo = \(quoted(conninfo))
            primary_slot_name = '\(slotName)'

            """
    }

    /// `pg_hba.conf`.
    var hostRules: String {
        """
        # Written by the Cellar guest agent. The superuser: the server's own OS user only (pg_ident.conf).
        local   all   \(adminUser)                peer map=guest
        local   replication   \(adminUser)        peer map=guest
        local   all   all                     scram-sha-256
        host    all   \(adminUser)   0.0.0.0/0    reject
        host    all   \(adminUser)   ::/0         reject

        """ + replicationRules + Self.clientRules(allowedCidrs: allowedCidrs)
    }

    /// `pg_ident.conf`: the OS user the server runs as (the guest's) may log in as the guest's superuser.
    func identities(serverUser: String) -> String {
        "# Written by the Cellar guest agent.\nguest   \(serverUser)   \(adminUser)\n"
    }

    /// The replication account, from the members' addresses only, with its password. A client connecting to a
    /// loopback address comes from 127.0.0.1 whatever address it was given, so loopback members allow that one.
    var replicationRules: String {
        guard let replication else { return "" }
        var sources = replication.peerAddresses
        if sources.contains(where: { $0.hasPrefix("127.") }) && !sources.contains("127.0.0.1") { sources.append("127.0.0.1") }
        return sources.map { "host    replication   \(Self.replicationUser)   \($0)/32    scram-sha-256\n" }.joined()
            + "host    all   \(Self.replicationUser)   0.0.0.0/0    reject\n"
    }

    /// The group's values as `postgresql.conf` lines.
    static func overridesSection(_ values: [String: ParameterValue]) -> String {
        guard !values.isEmpty else { return "" }
        let lines = values.keys.sorted().map { "\($0) = \(quoted(values[$0]!.description))" }
        return "# The attached configuration group\n" + lines.joined(separator: "\n") + "\n"
    }

    /// A `postgresql.conf` string: the file's reader takes backslash escapes inside quotes, so backslashes are
    /// doubled as well as quotes, and a line break (which would end the line) is written as `\n`.
    static func quoted(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        return "'" + escaped + "'"
    }

    /// `pg_hba.conf` lines for clients over TCP: passwords (SCRAM), from the allowed networks only.
    static func clientRules(allowedCidrs: [String]) -> String {
        let networks =
            allowedCidrs.isEmpty
            ? ["0.0.0.0/0", "::/0"]
            : allowedCidrs.map { $0.contains("/") ? $0 : $0 + ($0.contains(":") ? "/128" : "/32") }
        return networks.map { "host    all   all        \($0)    scram-sha-256\n" }.joined()
    }
}
