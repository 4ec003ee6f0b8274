import EventStore
import Foundation
import PostgresNIO

extension IdentityStore {
    /// Creates a user in the default domain and gives it `roles` on `defaultProject` (a project name or id).
    ///
    /// - Throws: `IdentityError.userExists`, `.projectNotFound`, `.roleNotFound`, `.invalidName`, `.invalidPassword`.
    public func createUser(name: String, password: String, defaultProject: String?, roles: [String] = []) async throws -> User {
        try Self.checkName(name, limit: 255)
        guard !password.isEmpty else { throw IdentityError.invalidPassword }
        let project = try await defaultProject.asyncMap { try await self.project(nameOrID: $0) }
        guard project != nil || roles.isEmpty else { throw IdentityError.projectNotFound("(none given for the roles)") }
        let hash = try hasher.hash(password)
        let id = SecureRandom.identifier()
        return try await mappingUniqueViolation(to: .userExists(name)) {
            try await transaction { connection in
                let rows = try await connection.guardedQuery(
                    """
                    INSERT INTO identity_users (id, name, password_hash, default_project_id)
                    VALUES (\(id), \(name), \(hash), \(project?.id))
                    RETURNING \(unescaped: Self.userColumns)
                    """, logger: logger)
                var created: User?
                for try await row in rows.decode(UserRow.self) { created = User(row) }
                guard let created else { throw IdentityError.userNotFound(name) }
                if let project {
                    for role in roles { try await assign(role, userID: created.id, projectID: project.id, on: connection) }
                }
                return created
            }
        }
    }

    /// Gives `user` (a name or id) the role `role` on `project` (a name or id); assigning it twice changes nothing.
    public func assignRole(_ role: String, user: String, project: String) async throws {
        let user = try await self.user(nameOrID: user)
        let project = try await self.project(nameOrID: project)
        try await transaction { connection in try await assign(role, userID: user.id, projectID: project.id, on: connection) }
    }

    /// Replaces a user's password (a name or id) and revokes the user's tokens, as Keystone does.
    public func setPassword(user: String, password: String, at now: Date = Date()) async throws {
        guard !password.isEmpty else { throw IdentityError.invalidPassword }
        let user = try await self.user(nameOrID: user)
        let hash = try hasher.hash(password)
        try await transaction { connection in
            try await connection.guardedQuery("UPDATE identity_users SET password_hash = \(hash) WHERE id = \(user.id)", logger: logger)
            try await connection.guardedQuery(
                "UPDATE identity_tokens SET revoked_at = \(now) WHERE user_id = \(user.id) AND revoked_at IS NULL", logger: logger)
        }
    }

    /// Every user, by name.
    public func users() async throws -> [User] {
        let rows = try await client.query("SELECT \(unescaped: Self.userColumns) FROM identity_users ORDER BY name", logger: logger)
        return try await rows.decode(UserRow.self).reduce(into: []) { $0.append(User($1)) }
    }

    /// The user with this name in the default domain, if any.
    public func user(named name: String) async throws -> User? {
        try await fetchUser("SELECT \(unescaped: Self.userColumns) FROM identity_users WHERE domain_id = 'default' AND name = \(name)")
    }

    /// The user with this id, if any.
    public func user(id: String) async throws -> User? {
        try await fetchUser("SELECT \(unescaped: Self.userColumns) FROM identity_users WHERE id = \(id)")
    }

    /// The user a command-line argument names: a name first, else an id.
    public func user(nameOrID: String) async throws -> User {
        if let user = try await user(named: nameOrID) { return user }
        if let user = try await user(id: nameOrID) { return user }
        throw IdentityError.userNotFound(nameOrID)
    }

    /// The roles `userID` holds on `projectID`, by name.
    public func roles(userID: String, projectID: String) async throws -> [Role] {
        let rows = try await client.query(
            """
            SELECT r.id, r.name FROM identity_role_assignments a JOIN identity_roles r ON r.id = a.role_id
            WHERE a.user_id = \(userID) AND a.project_id = \(projectID) ORDER BY r.name
            """, logger: logger)
        return try await rows.decode((String, String).self).reduce(into: []) { $0.append(Role(id: $1.0, name: $1.1)) }
    }

    /// Every role, by name.
    public func roles() async throws -> [Role] {
        let rows = try await client.query("SELECT id, name FROM identity_roles ORDER BY name", logger: logger)
        return try await rows.decode((String, String).self).reduce(into: []) { $0.append(Role(id: $1.0, name: $1.1)) }
    }

    func assign(_ role: String, userID: String, projectID: String, on connection: PostgresConnection) async throws {
        let rows = try await connection.guardedQuery(
            """
            WITH role AS (SELECT id FROM identity_roles WHERE name = \(role))
            INSERT INTO identity_role_assignments (user_id, project_id, role_id)
            SELECT \(userID), \(projectID), id FROM role
            ON CONFLICT DO NOTHING
            RETURNING role_id
            """, logger: logger)
        var assigned = false
        for try await _ in rows.decode(String.self) { assigned = true }
        if assigned { return }
        // Nothing inserted: the assignment existed already, or the role does not exist.
        let known = try await connection.guardedQuery("SELECT 1 FROM identity_roles WHERE name = \(role)", logger: logger)
        for try await _ in known.decode(Int.self) { return }
        throw IdentityError.roleNotFound(role)
    }

    /// The stored hash of a user's password, with what authentication needs to know about the user.
    func credentials(for reference: PasswordAuthRequest.UserReference) async throws -> (user: User, passwordHash: String)? {
        let query: PostgresQuery
        switch reference {
        case .id(let id):
            query = "SELECT \(unescaped: Self.userColumns), password_hash FROM identity_users WHERE id = \(id)"
        case .name(let name, let domain):
            guard DefaultDomain.matches(domain) else { return nil }
            query = "SELECT \(unescaped: Self.userColumns), password_hash FROM identity_users WHERE domain_id = 'default' AND name = \(name)"
        }
        let rows = try await client.query(query, logger: logger)
        for try await row in rows.decode((String, String, String, String?, Bool, Date, String).self) {
            return (User((row.0, row.1, row.2, row.3, row.4, row.5)), row.6)
        }
        return nil
    }

    private func fetchUser(_ query: PostgresQuery) async throws -> User? {
        for try await row in try await client.query(query, logger: logger).decode(UserRow.self) { return User(row) }
        return nil
    }

    static let userColumns = "id, name, domain_id, default_project_id, enabled, created_at"
    typealias UserRow = (String, String, String, String?, Bool, Date)
}

extension User {
    init(_ row: IdentityStore.UserRow) {
        self.init(id: row.0, name: row.1, domainID: row.2, defaultProjectID: row.3, enabled: row.4, createdAt: row.5)
    }
}

extension Optional {
    /// `map` for an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
