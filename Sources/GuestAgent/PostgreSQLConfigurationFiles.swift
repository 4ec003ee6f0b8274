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

        """ + Self.overridesSection(overrides)
    }

    /// `pg_hba.conf`.
    var hostRules: String {
        """
        # Written by the Cellar guest agent.
        local   all   \(adminUser)                trust
        local   all   all                     scram-sha-256
        host    all   \(adminUser)   0.0.0.0/0    reject
        host    all   \(adminUser)   ::/0         reject

        """ + Self.clientRules(allowedCidrs: allowedCidrs)
    }

    /// The group's values as `postgresql.conf` lines.
    static func overridesSection(_ values: [String: ParameterValue]) -> String {
        guard !values.isEmpty else { return "" }
        let lines = values.keys.sorted().map { name -> String in
            let text = values[name]!.description.replacingOccurrences(of: "'", with: "''")
            return "\(name) = '\(text)'"
        }
        return "# The attached configuration group\n" + lines.joined(separator: "\n") + "\n"
    }

    /// `pg_hba.conf` lines for clients over TCP: passwords (SCRAM), from the allowed networks only.
    static func clientRules(allowedCidrs: [String]) -> String {
        let networks = allowedCidrs.isEmpty ? ["0.0.0.0/0", "::/0"]
            : allowedCidrs.map { $0.contains("/") ? $0 : $0 + ($0.contains(":") ? "/128" : "/32") }
        return networks.map { "host    all   all        \($0)    scram-sha-256\n" }.joined()
    }
}
