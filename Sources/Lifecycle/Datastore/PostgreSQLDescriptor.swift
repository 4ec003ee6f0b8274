/// PostgreSQL: port 5432, 63-byte identifiers, roles without hosts (where clients may connect from is the
/// instance's access rules, `pg_hba.conf`).
public struct PostgreSQLDescriptor: DatastoreDescriptor {
    public init() {}
    public let manager = "postgresql"
    public let displayName = "PostgreSQL"
    public let standardPort = 5432
    public let seededVersion = "15"
    public let reservedDatabaseNames: Set<String> = ["postgres", "template0", "template1"]
    public let reservedUserNames: Set<String> = ["postgres", "root", "os_admin", "os_replicator", "cellar"]
    public let usersHaveHosts = false
    public let maximumNameBytes = (database: 63, user: 63)
    /// Streaming replication: a primary and hot standbys, weighted failover.
    public let clusterStrategy: ClusterStrategy? = .activePassive

    /// Encoding names match whatever their case and punctuation (`utf8`, `UTF-8`, `UTF8`).
    public func canonicalCharacterSet(_ name: String) -> String { name.lowercased().filter { $0 != "-" && $0 != "_" } }
    /// Collations are locale names, matched as written.
    public func canonicalCollation(_ name: String) -> String { name }
}
