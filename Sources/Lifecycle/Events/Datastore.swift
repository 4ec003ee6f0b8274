import Foundation

/// A datastore and version, as in `{"datastore": {"type": "postgresql", "version": "17"}}`.
public struct Datastore: Codable, Sendable, Equatable, Hashable {
    /// The datastore type, e.g. `postgresql`, `mariadb`.
    public var type: String
    /// The datastore version name, e.g. `17`.
    public var version: String
    /// The version's guest manager (`postgresql`, `mariadb`): which `DatastoreDescriptor` and guest manager run
    /// it. Absent in events recorded before it was (then the type names the manager).
    public var manager: String?

    /// Creates a datastore reference.
    public init(type: String, version: String, manager: String? = nil) {
        self.type = type
        self.version = version
        self.manager = manager
    }
}

/// Why something failed, and when (Trove's `fault {message, created}`).
public struct Failure: Codable, Sendable, Equatable {
    /// What went wrong, for operators and the `fault` of the API.
    public var reason: String
    /// When it was decided that it failed.
    public var at: Date

    /// Creates a failure.
    public init(reason: String, at: Date) {
        self.reason = reason
        self.at = at
    }
}
