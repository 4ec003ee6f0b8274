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
        /// `PUT /instances/{id}/users` (new passwords, not recorded). `hosts` go with `users` one to one; absent
        /// in events recorded before users were told apart by host (each user then had one account).
        case changePasswords(users: [String], hosts: [String]? = nil)
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
            case .changePasswords(let users, _): "change the passwords of \(users.joined(separator: ", "))"
            case .enableRoot: "enable root"
            case .disableRoot: "disable root"
            case .renameUser(let name, let host, let newName, let newHost):
                newHost.map { "move user \(name)@\(host) to \(newName)@\($0)" } ?? "rename user \(name) to \(newName)"
            case .updateAccess(let access):
                access.allowedCidrs.isEmpty
                    ? "allow connections from any network" : "allow connections from \(access.allowedCidrs.joined(separator: ", "))"
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
            for user in users.map(UserAccount.init) where !state.users.contains(user) { state.users.append(user) }
        case .deleteUser(let name, let host):
            state.users.removeAll { $0 == UserAccount(name: name, host: host) }
        case .enableRoot:
            state.rootEnabled = true
        case .disableRoot:
            state.rootEnabled = false
        case .updateAccess(let access):
            state.access = access
        case .renameUser(let name, let host, let newName, let newHost):
            let (old, new) = (UserAccount(name: name, host: host), UserAccount(name: newName, host: newHost ?? host))
            state.users = state.users.map { $0 == old ? new : $0 }
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
                if state.users.contains(UserAccount(user)) {
                    throw .invalidInput("User \(UserAccount(user).shown) already exists on \(state.subject)")
                }
                for database in user.databases where !state.databases.contains(database) {
                    throw .invalidInput("User \(user.name) is granted database \(database), which \(state.subject) does not have")
                }
            }
        case .deleteUser(let name, let host):
            try requireUser(UserAccount(name: name, host: host), in: state)
        case .grantAccess(let user, let host, let databases):
            try requireUser(UserAccount(name: user, host: host), in: state)
            try require(!databases.isEmpty, "Give at least one database to grant")
            for database in databases where !state.databases.contains(database) {
                throw .notFound("Database \(database) of \(state.subject) could not be found")
            }
        case .revokeAccess(let user, let host, let database):
            try requireUser(UserAccount(name: user, host: host), in: state)
            if !state.databases.contains(database) { throw .notFound("Database \(database) of \(state.subject) could not be found") }
        case .changePasswords(let users, let hosts):
            try require(!users.isEmpty, "Give at least one user")
            try require(hosts.map { $0.count == users.count } ?? true, "Give each user's host")
            for (index, user) in users.enumerated() {
                let host = hosts?[index]
                if let host {
                    try requireUser(UserAccount(name: user, host: host), in: state)
                } else if !state.users.contains(where: { $0.name == user }) {
                    throw .notFound("User \(user) of \(state.subject) could not be found")
                }
            }
        case .enableRoot:
            break
        case .disableRoot:
            if state.rootEnabled != true { throw .notFound("Root is not enabled on \(state.subject)") }
        case .renameUser(let name, let host, let newName, let newHost):
            let (old, new) = (UserAccount(name: name, host: host), UserAccount(name: newName, host: newHost ?? host))
            try requireUser(old, in: state)
            try require(!newName.isEmpty, "The new user name must not be empty")
            try require(new != old, "Give the user a new name or host")
            if state.users.contains(new) { throw .invalidInput("User \(new.shown) already exists on \(state.subject)") }
        case .updateAccess(let access):
            for cidr in access.allowedCidrs where !Access.isCIDR(cidr) {
                throw .invalidInput("\(cidr) in allowed_cidrs is not a network in CIDR notation (e.g. 10.0.0.0/24 or 2001:db8::/32)")
            }
        }
    }
}

extension Instance {
    /// A database account: a user name and the host it may connect from (`%`: any).
    public struct UserAccount: Codable, Sendable, Hashable, CustomStringConvertible {
        /// The user name.
        public var name: String
        /// The host pattern (`%` for datastores whose users have no host).
        public var host: String

        /// Creates an account.
        public init(name: String, host: String) {
            self.name = name
            self.host = host
        }

        /// The account a user spec creates.
        public init(_ spec: UserSpec) { self.init(name: spec.name, host: spec.host) }

        /// `name@host`, as Trove shows users.
        public var description: String { "\(name)@\(host)" }

        /// For messages: the name alone when the host is any (`%`), else `name@host`.
        public var shown: String { host == "%" ? name : description }

        /// Encoded as `shown` (folded states written before users had hosts hold bare names); names have no `@`.
        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let at = text.lastIndex(of: "@") else {
                self.init(name: text, host: "%")
                return
            }
            self.init(name: String(text[..<at]), host: String(text[text.index(after: at)...]))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(shown)
        }
    }

    /// 404 unless `state` has `account`; a datastore without hosts names the user alone.
    static func requireUser(_ account: UserAccount, in state: State) throws(Rejection) {
        guard !state.users.contains(account) else { return }
        throw .notFound("User \(account.shown) of \(state.subject) could not be found")
    }
}

extension Instance.Access {
    /// Whether `text` is an IPv4 or IPv6 network such as `10.0.0.0/24` (a bare address counts as a host).
    public static func isCIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = parts.first else { return false }
        let isV4 =
            address.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && address.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { UInt8($0) != nil && $0.count <= 3 }
        let isV6 =
            !isV4 && address.contains(":") && address.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
            && address.split(separator: ":", omittingEmptySubsequences: false).count <= 8
        guard isV4 || isV6 else { return false }
        guard parts.count == 2 else { return true }
        guard let prefix = Int(parts[1]) else { return false }
        return prefix >= 0 && prefix <= (isV4 ? 32 : 128)
    }
}
