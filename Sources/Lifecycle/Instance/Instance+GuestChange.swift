import Foundation

extension Instance {
    /// A change to the databases, users or root of a running instance, made by its guest agent. Recorded as
    /// `GuestChangeRequested` (the API accepted it), then `GuestChangeApplied` or `GuestChangeFailed` (the
    /// `ChangeGuest` saga's outcome). Passwords are never part of it: they travel sealed, outside the log.
    public enum GuestChange: Codable, Sendable, Equatable {
        /// `POST /instances/{id}/databases`.
        case createDatabases([DatabaseSpec])
        /// `DELETE /instances/{id}/databases/{name}`.
        case deleteDatabase(name: String)
        /// `POST /instances/{id}/users` (passwords set, not recorded).
        case createUsers([UserSpec])
        /// `DELETE /instances/{id}/users/{name}`.
        case deleteUser(name: String, host: String)
        /// `PUT /instances/{id}/users/{name}/databases`.
        case grantAccess(user: String, host: String, databases: [String])
        /// `DELETE /instances/{id}/users/{name}/databases/{database}`.
        case revokeAccess(user: String, host: String, database: String)
        /// `PUT /instances/{id}/users` (new passwords, not recorded).
        case changePasswords(users: [String])
        /// `POST /instances/{id}/root` (the password is returned to the caller once, never recorded).
        case enableRoot
        /// `DELETE /instances/{id}/root`: root may no longer log in.
        case disableRoot
        /// `PUT /instances/{id}/users/{name}` with a new name, or (where users have hosts) a new host: the
        /// password and grants stay. `newHost` is absent in events recorded before hosts could change.
        case renameUser(name: String, host: String, newName: String, newHost: String? = nil)
        /// `PUT {"instance": {"access": ...}}`: the networks clients may connect from.
        case updateAccess(Access)

        /// For messages: `create databases a, b`.
        public var summary: String {
            switch self {
            case .createDatabases(let databases): "create databases \(databases.map(\.name).joined(separator: ", "))"
            case .deleteDatabase(let name): "delete database \(name)"
            case .createUsers(let users): "create users \(users.map(\.name).joined(separator: ", "))"
            case .deleteUser(let name, _): "delete user \(name)"
            case .grantAccess(let user, _, let databases): "grant \(user) access to \(databases.joined(separator: ", "))"
            case .revokeAccess(let user, _, let database): "revoke \(user)'s access to \(database)"
            case .changePasswords(let users): "change the passwords of \(users.joined(separator: ", "))"
            case .enableRoot: "enable root"
            case .disableRoot: "disable root"
            case .renameUser(let name, let host, let newName, let newHost):
                newHost.map { "move user \(name)@\(host) to \(newName)@\($0)" } ?? "rename user \(name) to \(newName)"
            case .updateAccess(let access):
                access.allowedCidrs.isEmpty ? "allow connections from any network" : "allow connections from \(access.allowedCidrs.joined(separator: ", "))"
            }
        }
    }

    /// A guest change that the guest refused or could not make.
    public struct GuestChangeFailure: Codable, Sendable, Equatable {
        /// The change.
        public var change: GuestChange
        /// Why, for people.
        public var reason: String
        /// Creates a failure.
        public init(change: GuestChange, reason: String) {
            self.change = change
            self.reason = reason
        }
    }

    /// The state's database and user lists after `change` was applied.
    static func apply(_ change: GuestChange, to state: inout State) {
        switch change {
        case .createDatabases(let databases):
            for database in databases where !state.databases.contains(database.name) { state.databases.append(database.name) }
        case .deleteDatabase(let name):
            state.databases.removeAll { $0 == name }
        case .createUsers(let users):
            for user in users where !state.users.contains(user.name) { state.users.append(user.name) }
        case .deleteUser(let name, _):
            state.users.removeAll { $0 == name }
        case .enableRoot:
            state.rootEnabled = true
        case .disableRoot:
            state.rootEnabled = false
        case .updateAccess(let access):
            state.access = access
        case .renameUser(let name, _, let newName, _):
            state.users = state.users.map { $0 == name ? newName : $0 }
        case .grantAccess, .revokeAccess, .changePasswords:
            break
        }
    }

    /// The checks a change must pass against what the instance has.
    static func validate(_ change: GuestChange, state: State) throws(Rejection) {
        switch change {
        case .createDatabases(let databases):
            try require(!databases.isEmpty, "Give at least one database")
            for database in databases where state.databases.contains(database.name) {
                throw .invalidInput("Database \(database.name) already exists on \(state.subject)")
            }
        case .deleteDatabase(let name):
            if !state.databases.contains(name) { throw .notFound("Database \(name) of \(state.subject) could not be found") }
        case .createUsers(let users):
            try require(!users.isEmpty, "Give at least one user")
            for user in users {
                if state.users.contains(user.name) { throw .invalidInput("User \(user.name) already exists on \(state.subject)") }
                for database in user.databases where !state.databases.contains(database) {
                    throw .invalidInput("User \(user.name) is granted database \(database), which \(state.subject) does not have")
                }
            }
        case .deleteUser(let name, _):
            if !state.users.contains(name) { throw .notFound("User \(name) of \(state.subject) could not be found") }
        case .grantAccess(let user, _, let databases):
            if !state.users.contains(user) { throw .notFound("User \(user) of \(state.subject) could not be found") }
            try require(!databases.isEmpty, "Give at least one database to grant")
            for database in databases where !state.databases.contains(database) {
                throw .notFound("Database \(database) of \(state.subject) could not be found")
            }
        case .revokeAccess(let user, _, let database):
            if !state.users.contains(user) { throw .notFound("User \(user) of \(state.subject) could not be found") }
            if !state.databases.contains(database) { throw .notFound("Database \(database) of \(state.subject) could not be found") }
        case .changePasswords(let users):
            try require(!users.isEmpty, "Give at least one user")
            for user in users where !state.users.contains(user) { throw .notFound("User \(user) of \(state.subject) could not be found") }
        case .enableRoot:
            break
        case .disableRoot:
            if state.rootEnabled != true { throw .notFound("Root is not enabled on \(state.subject)") }
        case .renameUser(let name, let host, let newName, let newHost):
            if !state.users.contains(name) { throw .notFound("User \(name) of \(state.subject) could not be found") }
            try require(!newName.isEmpty, "The new user name must not be empty")
            try require(newName != name || (newHost.map { $0 != host } ?? false), "Give the user a new name or host")
            if newName != name, state.users.contains(newName) { throw .invalidInput("User \(newName) already exists on \(state.subject)") }
        case .updateAccess(let access):
            for cidr in access.allowedCidrs where !Access.isCIDR(cidr) {
                throw .invalidInput("\(cidr) in allowed_cidrs is not a network in CIDR notation (e.g. 10.0.0.0/24 or 2001:db8::/32)")
            }
        }
    }
}

extension Instance.Access {
    /// Whether `text` is an IPv4 or IPv6 network such as `10.0.0.0/24` (a bare address counts as a host).
    public static func isCIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = parts.first else { return false }
        let isV4 = address.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && address.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { UInt8($0) != nil && $0.count <= 3 }
        let isV6 = !isV4 && address.contains(":") && address.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
            && address.split(separator: ":", omittingEmptySubsequences: false).count <= 8
        guard isV4 || isV6 else { return false }
        guard parts.count == 2 else { return true }
        guard let prefix = Int(parts[1]) else { return false }
        return prefix >= 0 && prefix <= (isV4 ? 32 : 128)
    }
}
