import Foundation
import PostgresNIO

extension IdentityStore {
    /// Creates a project in the default domain.
    ///
    /// - Throws: `IdentityError.projectExists` when the name is taken, `.invalidName` for an unusable name.
    public func createProject(name: String, description: String = "") async throws -> Project {
        try Self.checkName(name, limit: 64)
        let id = SecureRandom.identifier()
        return try await mappingUniqueViolation(to: .projectExists(name)) {
            let rows = try await client.query(
                """
                INSERT INTO identity_projects (id, name, description) VALUES (\(id), \(name), \(description))
                RETURNING \(unescaped: Self.projectColumns)
                """, logger: logger)
            for try await row in rows.decode(ProjectRow.self) { return Project(row) }
            throw IdentityError.projectNotFound(name)
        }
    }

    /// Every project, by name.
    public func projects() async throws -> [Project] {
        let rows = try await client.query("SELECT \(unescaped: Self.projectColumns) FROM identity_projects ORDER BY name", logger: logger)
        return try await rows.decode(ProjectRow.self).reduce(into: []) { $0.append(Project($1)) }
    }

    /// The project with this name in the default domain, if any.
    public func project(named name: String) async throws -> Project? {
        try await fetchProject("SELECT \(unescaped: Self.projectColumns) FROM identity_projects WHERE domain_id = 'default' AND name = \(name)")
    }

    /// The project with this id, if any.
    public func project(id: String) async throws -> Project? {
        try await fetchProject("SELECT \(unescaped: Self.projectColumns) FROM identity_projects WHERE id = \(id)")
    }

    /// The project a command-line argument names: a name first, else an id.
    public func project(nameOrID: String) async throws -> Project {
        if let project = try await project(named: nameOrID) { return project }
        if let project = try await project(id: nameOrID) { return project }
        throw IdentityError.projectNotFound(nameOrID)
    }

    /// The enabled projects where the user holds at least one role (`GET /v3/auth/projects`).
    public func projects(ofUser userID: String) async throws -> [Project] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.projectColumns) FROM identity_projects
            WHERE enabled AND id IN (SELECT project_id FROM identity_role_assignments WHERE user_id = \(userID))
            ORDER BY name
            """, logger: logger)
        return try await rows.decode(ProjectRow.self).reduce(into: []) { $0.append(Project($1)) }
    }

    private func fetchProject(_ query: PostgresQuery) async throws -> Project? {
        for try await row in try await client.query(query, logger: logger).decode(ProjectRow.self) { return Project(row) }
        return nil
    }

    static let projectColumns = "id, name, domain_id, description, enabled, created_at"
    typealias ProjectRow = (String, String, String, String, Bool, Date)
}

extension Project {
    init(_ row: IdentityStore.ProjectRow) {
        self.init(id: row.0, name: row.1, domainID: row.2, description: row.3, enabled: row.4, createdAt: row.5)
    }
}
