import Bus
import Foundation
import GuestProtocol
import Secrets

/// Databases, users (`name@host`), grants and root: SQL administration as the guest's `root@localhost`.
extension MariaDBManager {
    typealias SQL = MariaDBClient

    func createDatabases(_ databases: [GuestDatabase]) async throws {
        try Self.checkNames(databases: databases.map(\.name), users: [])
        try Self.checkSettings(databases)
        try await admin { client in
            for database in databases {
                var sql = "CREATE DATABASE IF NOT EXISTS \(SQL.identifier(database.name))"
                if let characterSet = database.characterSet { sql += " CHARACTER SET \(SQL.literal(characterSet))" }
                if let collate = database.collate { sql += " COLLATE \(SQL.literal(collate))" }
                do { try client.run(sql) } catch let failure as RemoteFailure {
                    throw RemoteFailure(
                        type: "InvalidDatabaseSettings", message: "database \(database.name) could not be created: \(failure.message)")
                }
            }
        }
    }

    func deleteDatabase(_ name: String) async throws {
        try Self.checkNames(databases: [name], users: [])
        try await admin { try $0.run("DROP DATABASE IF EXISTS \(SQL.identifier(name))") }
    }

    func listDatabases() async throws -> [GuestDatabase] {
        let rows = try await admin {
            try $0.run(
                """
                SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME
                """)
        }
        return rows.filter { $0.count == 3 && !Self.rules.reservedDatabaseNames.contains($0[0].lowercased()) }
            .map { GuestDatabase(name: $0[0], characterSet: $0[1], collate: $0[2]) }
    }

    /// An API account (`name@host`) is one server account, or one per allowed network (`+Access`).
    func createUsers(_ users: [GuestUser]) async throws {
        try Self.checkNames(databases: users.flatMap(\.databases), users: users.map(\.name))
        let accounts = users.map { (user: $0, hosts: serverHosts(for: $0.host)) }
        try await admin { client in
            for (user, hosts) in accounts {
                for host in hosts {
                    let exists = try client.exists("SELECT 1 FROM mysql.user WHERE User = \(SQL.literal(user.name)) AND Host = \(SQL.literal(host))")
                    guard let password = user.password, !password.isEmpty else {
                        if exists { continue }  // a repeated prepare after the password was handed over once
                        throw RemoteFailure(type: "InvalidPassword", message: "user \(user.name) needs a password")
                    }
                    let verb = exists ? "ALTER USER" : "CREATE USER"
                    try client.run("\(verb) \(SQL.account(user.name, host)) IDENTIFIED BY \(SQL.passwordHash(of: password))")
                }
            }
        }
        for user in users { try await grant(user: user.name, host: user.host, databases: user.databases) }
    }

    func deleteUser(_ name: String, host: String) async throws {
        try Self.checkNames(databases: [], users: [name])
        let hosts = serverHosts(for: host)
        try await admin { client in
            for host in hosts { try client.run("DROP USER IF EXISTS \(SQL.account(name, host))") }
            try Self.endSessions(of: name, database: nil, on: client)
        }
    }

    /// Accounts with the databases granted to them explicitly, as the API names them.
    func listUsers() async throws -> [GuestUser] {
        let rows = try await admin {
            try $0.run(
                """
                SELECT u.User, u.Host, IFNULL(GROUP_CONCAT(d.Db ORDER BY d.Db SEPARATOR ','), '')
                FROM mysql.user u LEFT JOIN mysql.db d ON d.User = u.User AND d.Host = u.Host
                WHERE u.User <> '' AND u.is_role = 'N' GROUP BY u.User, u.Host ORDER BY u.User, u.Host
                """)
        }
        var users: [GuestUser] = []
        for row in rows where row.count == 3 && !Self.internalUsers.contains(row[0]) && !(row[0] == transferUser && row[1] == "localhost") {
            let host = apiHost(of: row[1])
            if users.contains(where: { $0.name == row[0] && $0.host == host }) { continue }  // another network's copy
            users.append(GuestUser(name: row[0], host: host, password: nil, databases: row[2].split(separator: ",").map(String.init)))
        }
        return users
    }

    func grant(user: String, host: String, databases: [String]) async throws {
        try Self.checkNames(databases: databases, users: [user])
        let hosts = serverHosts(for: host)
        try await admin { client in
            for database in databases {
                guard try client.exists("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = \(SQL.literal(database))") else {
                    throw RemoteFailure(type: "InvalidDatabase", message: "database \(database) does not exist")
                }
                for host in hosts { try client.run("GRANT ALL PRIVILEGES ON \(SQL.identifier(database)).* TO \(SQL.account(user, host))") }
            }
        }
    }

    /// Takes the grants away and ends the user's sessions on those databases, so access stops at once.
    func revoke(user: String, host: String, databases: [String]) async throws {
        try Self.checkNames(databases: databases, users: [user])
        let hosts = serverHosts(for: host)
        try await admin { client in
            for database in databases {
                for host in hosts {
                    let granted = try client.exists(
                        """
                        SELECT 1 FROM mysql.db WHERE User = \(SQL.literal(user)) AND Host = \(SQL.literal(host)) AND Db = \(SQL.literal(database))
                        """)
                    if granted { try client.run("REVOKE ALL PRIVILEGES ON \(SQL.identifier(database)).* FROM \(SQL.account(user, host))") }
                }
                try Self.endSessions(of: user, database: database, on: client)
            }
        }
    }

    func changePasswords(_ users: [GuestUser]) async throws {
        try Self.checkNames(databases: [], users: users.map(\.name))
        let accounts = users.map { (user: $0, hosts: serverHosts(for: $0.host)) }
        try await admin { client in
            for (user, hosts) in accounts {
                guard let password = user.password, !password.isEmpty else {
                    throw RemoteFailure(type: "InvalidPassword", message: "user \(user.name) needs a password")
                }
                let present = try hosts.filter {
                    try client.exists("SELECT 1 FROM mysql.user WHERE User = \(SQL.literal(user.name)) AND Host = \(SQL.literal($0))")
                }
                guard !present.isEmpty else { throw RemoteFailure(type: "InvalidUser", message: "user \(user.name)@\(user.host) does not exist") }
                for host in present {
                    try client.run("ALTER USER \(SQL.account(user.name, host)) IDENTIFIED BY \(SQL.passwordHash(of: password))")
                }
            }
        }
    }

    /// Renames an account or moves it to another host (its password and grants go with it); the sessions of the
    /// old account end. Done already: success.
    func renameUser(_ name: String, host: String, to newName: String, newHost: String) async throws {
        try Self.checkNames(databases: [], users: [name, newName])
        let (oldHosts, newHosts) = (serverHosts(for: host), serverHosts(for: newHost))
        try await admin { client in
            let exists = { (user: String, host: String) in
                try client.exists("SELECT 1 FROM mysql.user WHERE User = \(SQL.literal(user)) AND Host = \(SQL.literal(host))")
            }
            let existing = try oldHosts.filter { try exists(name, $0) }
            guard let first = existing.first, let target = newHosts.first else {
                if try newHosts.contains(where: { try exists(newName, $0) }) { return }
                throw RemoteFailure(type: "InvalidUser", message: "user \(name)@\(host) does not exist")
            }
            try client.run("RENAME USER \(SQL.account(name, first)) TO \(SQL.account(newName, target))")
            for host in newHosts.dropFirst() { try Self.copyAccount(newName, from: target, to: host, on: client) }
            for host in existing.dropFirst() { try client.run("DROP USER \(SQL.account(name, host))") }
            try Self.endSessions(of: name, database: nil, on: client)
        }
    }

    /// Creates (or resets and unlocks) `root@%` with every privilege; returns its password.
    func enableRoot(password: String?) async throws -> String {
        let secret = password ?? RandomPassword.make()
        let hosts = serverHosts(for: "%")
        try await admin { client in
            for host in hosts {
                let account = SQL.account("root", host)
                try client.run(
                    """
                    CREATE USER IF NOT EXISTS \(account) IDENTIFIED BY \(SQL.passwordHash(of: secret));
                    ALTER USER \(account) IDENTIFIED BY \(SQL.passwordHash(of: secret)) ACCOUNT UNLOCK;
                    GRANT ALL PRIVILEGES ON *.* TO \(account) WITH GRANT OPTION;
                    """)
            }
        }
        return secret
    }

    /// Locks the network `root` and ends its network sessions (the guest's own `root@localhost` is another account).
    func disableRoot() async throws {
        let hosts = serverHosts(for: "%")
        try await admin { client in
            for host in hosts where try client.exists("SELECT 1 FROM mysql.user WHERE User = 'root' AND Host = \(SQL.literal(host))") {
                try client.run("ALTER USER \(SQL.account("root", host)) ACCOUNT LOCK")
            }
            let sessions = try client.run("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'root' AND HOST <> 'localhost'")
            for row in sessions { if let id = row.first.flatMap(Int.init) { _ = try? client.run("KILL CONNECTION \(id)") } }
        }
    }

    /// Ends the sessions of `user` (on `database`, or all), so a revoke or drop takes effect at once.
    static func endSessions(of user: String, database: String?, on client: MariaDBClient) throws {
        var sql = "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = \(SQL.literal(user))"
        if let database { sql += " AND DB = \(SQL.literal(database))" }
        for row in try client.run(sql) { if let id = row.first.flatMap(Int.init) { _ = try? client.run("KILL CONNECTION \(id)") } }
    }
}
