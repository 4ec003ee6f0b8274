/// MariaDB: port 3306, users are `name@host` as in Trove (a different account per host; `%` any host), 64-byte
/// database and 80-byte user names.
public struct MariaDBDescriptor: DatastoreDescriptor {
    public init() {}
    public let manager = "mariadb"
    public let displayName = "MariaDB"
    public let standardPort = 3306
    public let reservedDatabaseNames: Set<String> = ["mysql", "information_schema", "performance_schema", "sys"]
    public let reservedUserNames: Set<String> = ["root", "mariadb.sys", "mysql", "os_admin", "cellar"]
    public let usersHaveHosts = true
    public let maximumNameBytes = (database: 64, user: 80)
}
