/// What Cellar knows of a datastore without running it: the rules the API and the sagas ask, so no code outside
/// descriptors and the guest's managers compares datastore names. One implementation per datastore, found by the
/// datastore version's `manager`.
public protocol DatastoreDescriptor: CharacterSetRules {
    /// The `manager` of the datastore versions it describes (`postgresql`, `mariadb`).
    var manager: String { get }
    /// How people name it in messages (`PostgreSQL`).
    var displayName: String { get }
    /// The port its server listens on, on the instance's own address.
    var standardPort: Int { get }
    /// Database names that are the server's or the guest's own.
    var reservedDatabaseNames: Set<String> { get }
    /// User names that are the server's or the guest's own.
    var reservedUserNames: Set<String> { get }
    /// Whether a user is `name@host` (a different user per host) or a name alone.
    var usersHaveHosts: Bool { get }
    /// The longest database and user names the server takes, in bytes.
    var maximumNameBytes: (database: Int, user: Int) { get }
    /// Why the server cannot match clients by `network` (a CIDR network or address, already well formed) in
    /// `field`, for access rules and user hosts; nil: it can.
    func problem(withNetwork network: String, field: String) -> String?
    /// How its clusters work; nil: it has none.
    var clusterStrategy: ClusterStrategy? { get }
    /// The version `cellar up` seeds into the catalog (the one the guest's prepared server runs).
    var seededVersion: String { get }
}

/// How a datastore's clusters work.
public enum ClusterStrategy: String, Sendable {
    /// Every member takes reads and writes (MariaDB Galera): one balancer endpoint over the members that are in
    /// the group and synced.
    case activeActive
    /// One primary takes writes, the others replicate from it and take reads (PostgreSQL streaming
    /// replication): a read-write endpoint on the primary, a read-only one over the replicas, weighted failover.
    case activePassive

    /// The fewest members a cluster may have (Trove's rule for Galera: 3, so one loss keeps a majority;
    /// active-passive: a primary and one replica).
    public var minimumMembers: Int { self == .activeActive ? 3 : 2 }
    /// The member `type` the API accepts in a create or grow (active-passive shows each member's role instead).
    public var memberType: String { self == .activeActive ? "member" : "replica" }
}

/// What a name names.
public enum NamedObject: String, Sendable {
    case database, user
}

extension DatastoreDescriptor {
    /// Any network: the server matches clients by CIDR networks of both address families.
    public func problem(withNetwork network: String, field: String) -> String? { nil }

    /// No clusters unless the descriptor says how.
    public var clusterStrategy: ClusterStrategy? { nil }

    /// Why `name` cannot name a `kind` here (nil: it can). Cellar accepts letters, digits, `_` and `-`, a letter
    /// or `_` first, on every datastore (nothing that needs quoting rules of its own), up to the server's length.
    public func problem(withName name: String, of kind: NamedObject) -> String? {
        let limit = kind == .database ? maximumNameBytes.database : maximumNameBytes.user
        let wellFormed =
            !name.isEmpty && name.utf8.count <= limit
            && name.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } == true
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
        guard wellFormed else {
            return "'\(name)' is not a valid \(kind.rawValue) name: use 1 to \(limit) letters, digits, '_' or '-', starting with a letter or '_'."
        }
        let reserved = kind == .database ? reservedDatabaseNames : reservedUserNames
        if reserved.contains(name.lowercased()) { return "'\(name)' is a reserved \(kind.rawValue) name on \(displayName)." }
        return nil
    }
}

/// The datastores Cellar knows.
public enum Datastores {
    /// Every descriptor, in the order `cellar up` seeds them (the first is seeded into an empty catalog, the
    /// others wherever they are missing). A new datastore is one entry here and one in the guest's managers.
    public static let all: [any DatastoreDescriptor] = [PostgreSQLDescriptor(), MariaDBDescriptor()]

    /// The descriptor of a datastore version's `manager`.
    public static func descriptor(manager: String) -> (any DatastoreDescriptor)? {
        all.first { $0.manager == manager }
    }

    /// The descriptor of an instance's datastore: by its manager, or, for instances recorded before the manager
    /// was, by its type (each datastore's type names its manager).
    public static func descriptor(of datastore: Datastore) -> (any DatastoreDescriptor)? {
        descriptor(manager: datastore.manager ?? datastore.type)
    }
}
