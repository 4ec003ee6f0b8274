/// MariaDB: port 3306, users are `name@host` as in Trove (a different account per host; `%` any host), 64-byte
/// database and 80-byte user names.
public struct MariaDBDescriptor: DatastoreDescriptor {
    public init() {}
    public let manager = "mariadb"
    public let displayName = "MariaDB"
    public let standardPort = 3306
    public let seededVersion = "10.11"
    public let reservedDatabaseNames: Set<String> = ["mysql", "information_schema", "performance_schema", "sys"]
    public let reservedUserNames: Set<String> = ["root", "mariadb.sys", "mysql", "os_admin", "cellar"]
    public let usersHaveHosts = true
    public let maximumNameBytes = (database: 64, user: 80)
    /// Galera (`galera-4`): every member reads and writes.
    public let clusterStrategy: ClusterStrategy? = .activeActive

    /// MariaDB's host rules take IPv4 networks (`address/netmask`) but IPv6 clients only by their whole address.
    public func problem(withNetwork network: String, field: String) -> String? {
        let parts = network.split(separator: "/")
        guard parts.count == 2, parts[0].contains(":"), parts[1] != "128" else { return nil }
        return
            "MariaDB matches IPv6 clients by their whole address: give \(field) an IPv4 network such as 10.0.0.0/8 or a full IPv6 address, not '\(network)'."
    }

    /// `utf8` is `utf8mb3` (MariaDB's own alias, as Trove's MySQL users write it); names are case-insensitive.
    public func canonicalCharacterSet(_ name: String) -> String {
        let lowered = name.lowercased()
        return lowered == "utf8" ? "utf8mb3" : lowered
    }

    /// `utf8_general_ci` is `utf8mb3_general_ci`.
    public func canonicalCollation(_ name: String) -> String {
        let lowered = name.lowercased()
        return lowered.hasPrefix("utf8_") ? "utf8mb3_" + lowered.dropFirst("utf8_".count) : lowered
    }
}
