import Bus
import Foundation
import GuestProtocol
import PostgresNIO
import Secrets

/// Databases, users, grants and root: SQL administration over the guest's own superuser connection.
extension PostgreSQLManager {
    // MARK: - Databases

    func createDatabases(_ databases: [GuestDatabase]) async throws {
        try Self.checkNames(databases: databases.map(\.name), users: [])
        try Self.checkSettings(databases)
        try await withAdmin { connection in
            for database in databases {
                if try await self.exists("SELECT 1 FROM pg_database WHERE datname = \(database.name)", on: connection) { continue }
                var sql =
                    "CREATE DATABASE \(SQLText.identifier(database.name)) TEMPLATE template0 ENCODING \(SQLText.literal(database.characterSet ?? "UTF8"))"
                if let collate = database.collate { sql += " LC_COLLATE \(SQLText.literal(collate)) LC_CTYPE \(SQLText.literal(collate))" }
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger)
                } catch let error as PSQLError {
                    throw RemoteFailure(
                        type: "InvalidDatabaseSettings",
                        message: "database \(database.name) could not be created: \(error.serverInfo?[.message] ?? "\(error)")")
                }
                try await connection.query(
                    PostgresQuery(unsafeSQL: "REVOKE ALL ON DATABASE \(SQLText.identifier(database.name)) FROM PUBLIC"), logger: self.logger)
            }
        }
    }

    func deleteDatabase(_ name: String) async throws {
        try Self.checkNames(databases: [name], users: [])
        try await withAdmin { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(SQLText.identifier(name)) WITH (FORCE)"), logger: self.logger)
        }
    }

    func listDatabases() async throws -> [GuestDatabase] {
        try await withAdmin { connection in
            var databases: [GuestDatabase] = []
            let rows = try await connection.query(
                "SELECT datname, pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE NOT datistemplate ORDER BY datname",
                logger: self.logger)
            for try await (name, encoding, collate) in rows.decode((String, String, String).self)
            where !Self.rules.reservedDatabaseNames.contains(name) {
                databases.append(GuestDatabase(name: name, characterSet: encoding, collate: collate))
            }
            return databases
        }
    }

    // MARK: - Users

    func createUsers(_ users: [GuestUser]) async throws {
        try Self.checkNames(databases: users.flatMap(\.databases), users: users.map(\.name))
        try await withAdmin { connection in
            for user in users {
                let role = SQLText.identifier(user.name)
                let exists = try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(user.name)", on: connection)
                guard let password = user.password, !password.isEmpty else {
                    // A repeated prepare after the password was handed over once: the role is there already.
                    if exists { continue }
                    throw RemoteFailure(type: "InvalidPassword", message: "user \(user.name) needs a password")
                }
                let verb = exists ? "ALTER" : "CREATE"
                try await connection.query(
                    PostgresQuery(unsafeSQL: "\(verb) ROLE \(role) LOGIN PASSWORD \(SQLText.verifier(of: password))"), logger: self.logger)
            }
        }
        for user in users { try await grant(user: user.name, host: user.host, databases: user.databases) }
    }

    /// PostgreSQL roles have no host: `host` is ignored.
    func deleteUser(_ name: String, host: String) async throws {
        try Self.checkNames(databases: [], users: [name])
        let databases = try await listDatabases().map(\.name) + ["postgres"]
        for database in databases {
            try await withAdmin(database: database) { connection in
                guard try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(name)", on: connection) else { return }
                try await connection.query(
                    PostgresQuery(unsafeSQL: "REASSIGN OWNED BY \(SQLText.identifier(name)) TO \(Self.adminUser)"), logger: self.logger)
                try await connection.query(PostgresQuery(unsafeSQL: "DROP OWNED BY \(SQLText.identifier(name))"), logger: self.logger)
            }
        }
        try await withAdmin { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP ROLE IF EXISTS \(SQLText.identifier(name))"), logger: self.logger)
        }
    }

    /// Users with the databases they were granted explicitly (PUBLIC grants and ownership do not count).
    func listUsers() async throws -> [GuestUser] {
        try await withAdmin { connection in
            let rows = try await connection.query(
                """
                SELECT r.rolname, coalesce(array_agg(d.datname ORDER BY d.datname) FILTER (WHERE d.datname IS NOT NULL), '{}')
                FROM pg_roles r
                LEFT JOIN LATERAL (
                    SELECT db.datname FROM pg_database db, aclexplode(db.datacl) acl
                    WHERE acl.grantee = r.oid AND acl.privilege_type = 'CONNECT' AND NOT db.datistemplate
                ) d ON true
                WHERE r.rolcanlogin AND NOT r.rolsuper GROUP BY r.rolname ORDER BY r.rolname
                """, logger: self.logger)
            var users: [GuestUser] = []
            for try await (name, databases) in rows.decode((String, [String]).self) where !Self.internalRoles.contains(name) {
                users.append(GuestUser(name: name, password: nil, databases: Array(Set(databases)).sorted()))
            }
            return users
        }
    }

    func grant(user: String, host: String, databases: [String]) async throws {
        try Self.checkNames(databases: databases, users: [user])
        for database in databases {
            try await withAdmin { connection in
                guard try await self.exists("SELECT 1 FROM pg_database WHERE datname = \(database)", on: connection) else {
                    throw RemoteFailure(type: "InvalidDatabase", message: "database \(database) does not exist")
                }
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "GRANT CONNECT, TEMPORARY, CREATE ON DATABASE \(SQLText.identifier(database)) TO \(SQLText.identifier(user))"),
                    logger: self.logger)
            }
            try await withAdmin(database: database) { connection in
                try await connection.query(
                    PostgresQuery(unsafeSQL: "GRANT USAGE, CREATE ON SCHEMA public TO \(SQLText.identifier(user))"), logger: self.logger)
            }
        }
    }

    /// Takes the grants away and ends the user's sessions on those databases, so access stops at once.
    func revoke(user: String, host: String, databases: [String]) async throws {
        try Self.checkNames(databases: databases, users: [user])
        for database in databases {
            try await withAdmin { connection in
                guard try await self.exists("SELECT 1 FROM pg_database WHERE datname = \(database)", on: connection) else { return }
                try await connection.query(
                    PostgresQuery(unsafeSQL: "REVOKE ALL ON DATABASE \(SQLText.identifier(database)) FROM \(SQLText.identifier(user))"),
                    logger: self.logger)
                try await connection.query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = \(user) AND datname = \(database)", logger: self.logger)
            }
        }
    }

    func changePasswords(_ users: [GuestUser]) async throws {
        try Self.checkNames(databases: [], users: users.map(\.name))
        try await withAdmin { connection in
            for user in users {
                guard let password = user.password, !password.isEmpty else {
                    throw RemoteFailure(type: "InvalidPassword", message: "user \(user.name) needs a password")
                }
                guard try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(user.name)", on: connection) else {
                    throw RemoteFailure(type: "InvalidUser", message: "user \(user.name) does not exist")
                }
                try await connection.query(
                    PostgresQuery(unsafeSQL: "ALTER ROLE \(SQLText.identifier(user.name)) PASSWORD \(SQLText.verifier(of: password))"),
                    logger: self.logger)
            }
        }
    }

    /// Renames a user (SCRAM passwords survive a rename; grants follow the role). Done already: success.
    /// PostgreSQL roles have no host: only the name changes.
    func renameUser(_ name: String, host: String, to newName: String, newHost: String) async throws {
        try Self.checkNames(databases: [], users: [name, newName])
        try await withAdmin { connection in
            if try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(newName)", on: connection),
                !(try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(name)", on: connection))
            {
                return
            }
            guard try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(name)", on: connection) else {
                throw RemoteFailure(type: "InvalidUser", message: "user \(name) does not exist")
            }
            try await connection.query(
                PostgresQuery(unsafeSQL: "ALTER ROLE \(SQLText.identifier(name)) RENAME TO \(SQLText.identifier(newName))"), logger: self.logger)
        }
    }

    /// Creates (or resets) the `root` superuser; returns its password.
    func enableRoot(password: String?) async throws -> String {
        let secret = password ?? RandomPassword.make()
        try await withAdmin { connection in
            let verb = try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = 'root'", on: connection) ? "ALTER" : "CREATE"
            try await connection.query(
                PostgresQuery(unsafeSQL: "\(verb) ROLE root SUPERUSER LOGIN PASSWORD \(SQLText.verifier(of: secret))"), logger: self.logger)
        }
        return secret
    }

    /// Takes root's login away and ends its sessions (the role stays, so enabling again is an ALTER).
    func disableRoot() async throws {
        try await withAdmin { connection in
            guard try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = 'root'", on: connection) else { return }
            try await connection.query(PostgresQuery(unsafeSQL: "ALTER ROLE root NOLOGIN"), logger: self.logger)
            try await connection.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'root'", logger: self.logger)
        }
    }
}
