import Bus
import Foundation
import GuestProtocol
import Lifecycle
import Logging

/// One datastore server beside the guest, as the guest's RPCs use it: one implementation per datastore
/// (`PostgreSQLManager`, ...). Every operation is idempotent: a repeated call (after a task manager crash, a
/// redelivery) finds the work done and succeeds again.
protocol DatastoreManager: Actor {
    // Server lifecycle
    /// Initializes (once), configures, starts, then creates the databases and users.
    func prepare(_ request: PrepareRequest) async throws
    /// At the guest's start: a prepared server that was not stopped on purpose runs again.
    func startIfPrepared() async
    /// Restarts the server, with new memory settings when given (a flavor resize).
    func restart(memoryMB: Int?) async throws
    /// Stops the server; it stays stopped until `restart` or `prepare`.
    func stop() async throws
    /// Records the volume size; writes stop while the data outgrows it.
    func resizeVolume(_ sizeGB: Int) async throws
    /// The server's condition for a heartbeat or `get_status`.
    func report(instanceID: String, at time: Date) async -> GuestReport

    // Databases and users
    func createDatabases(_ databases: [GuestDatabase]) async throws
    func deleteDatabase(_ name: String) async throws
    func listDatabases() async throws -> [GuestDatabase]
    func createUsers(_ users: [GuestUser]) async throws
    /// `host` matters where users are `name@host` (MariaDB); elsewhere it is `%` and ignored.
    func deleteUser(_ name: String, host: String) async throws
    func listUsers() async throws -> [GuestUser]
    func grant(user: String, host: String, databases: [String]) async throws
    func revoke(user: String, host: String, databases: [String]) async throws
    func changePasswords(_ users: [GuestUser]) async throws
    /// Renames an account and, where users have hosts, moves it to `newHost`.
    func renameUser(_ name: String, host: String, to newName: String, newHost: String) async throws
    /// Creates (or resets) the datastore's superuser `root`; returns its password.
    func enableRoot(password: String?) async throws -> String
    func disableRoot() async throws

    // Configuration and access
    /// Writes a configuration group's values, applies what can be applied live, answers what waits for a restart.
    func updateOverrides(_ values: [String: ParameterValue]) async throws -> OverridesOutcome
    /// The settings the server runs with that differ from its defaults.
    func effectiveConfiguration() async throws -> EffectiveConfiguration
    /// Only these client networks may connect (empty: any).
    func updateAccess(allowedCidrs: [String]) async throws
}

/// How a manager is made for one instance, and the rules of its datastore.
protocol DatastoreManagerType: DatastoreManager {
    /// The datastore's descriptor: the same rules the API applies before anything reaches the bus.
    static var rules: any DatastoreDescriptor { get }
    /// A manager running its server as this process's own OS user (the instance's: never root).
    init(instanceDirectory: URL, runtimeDirectory: URL, address: String, port: Int, logger: Logger)
    /// Makes the host's prepared data directory in `folder` when missing (`PreparedDataDirectory.ensure`), owned by
    /// `osUser` (nil: this process's user).
    static func prepareDataDirectory(in folder: URL, osUser: String?) throws
}

extension DatastoreManagerType {
    /// The datastore version `manager` it runs (`postgresql`).
    static var managerName: String { rules.manager }

    /// Database and user names as the descriptor takes them, checked again here because anything can reach the bus.
    static func checkNames(databases: [String], users: [String]) throws {
        for name in databases {
            if let problem = rules.problem(withName: name, of: .database) { throw RemoteFailure(type: "InvalidDatabaseName", message: problem) }
        }
        for name in users {
            if let problem = rules.problem(withName: name, of: .user) { throw RemoteFailure(type: "InvalidUserName", message: problem) }
        }
    }

    /// Character set and collation names: letters, digits, `_`, `-`, `.`, `@` (the server judges the rest).
    static func checkSettings(_ databases: [GuestDatabase]) throws {
        for database in databases {
            for value in [database.characterSet, database.collate].compactMap({ $0 }) where !SQLText.isValidSetting(value) {
                throw RemoteFailure(
                    type: "InvalidDatabaseSettings", message: "'\(value)' is not a valid character set or collation (database \(database.name))")
            }
        }
    }
}

/// The managers this guest agent has, by the name datastore versions give as their `manager`.
public enum DatastoreManagers {
    static let all: [any DatastoreManagerType.Type] = [PostgreSQLManager.self, MariaDBManager.self]

    static func type(named name: String) -> (any DatastoreManagerType.Type)? {
        all.first { $0.managerName == name }
    }

    /// For the compute driver: the prepared data directory of the datastore whose manager is `name`, in `folder`,
    /// made when missing (as `osUser`; a datastore this agent has no manager for needs none).
    public static func prepareDataDirectory(forManager name: String, in folder: URL, osUser: String?) throws {
        try type(named: name)?.prepareDataDirectory(in: folder, osUser: osUser)
    }
}
