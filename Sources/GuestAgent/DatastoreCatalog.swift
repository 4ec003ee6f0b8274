import Lifecycle
import Logging

/// What a datastore version's real server offers users: the parameters of configuration groups, its character
/// sets and collations.
public struct DatastoreCatalog: Sendable, Equatable {
    public var parameters: [ConfigurationParameter]
    public var characterSets: CharacterSetCatalog
}

/// Reads a datastore's catalog from a throw-away server of this machine's binaries; one per datastore.
public protocol DatastoreCatalogReader {
    /// The datastore version `manager` it reads for.
    static var managerName: String { get }
    /// Starts a private server (as `osUser` when given), asks it, stops and removes it.
    static func describe(osUser: String?, logger: Logger) throws -> DatastoreCatalog
    /// What `cellar bench create` compares against: seconds to initialize and start one bare server of this
    /// datastore from nothing (stopped and removed afterwards).
    static func timeBareServerStart(osUser: String?, index: Int) throws -> Double
}

/// The catalog readers this Cellar has, by manager.
public enum DatastoreCatalogReaders {
    public static let all: [any DatastoreCatalogReader.Type] = [PostgreSQLCatalog.self, MariaDBCatalog.self]

    public static func reader(forManager manager: String) -> (any DatastoreCatalogReader.Type)? {
        all.first { $0.managerName == manager }
    }
}
