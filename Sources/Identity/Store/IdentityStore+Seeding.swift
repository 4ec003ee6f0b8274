import EventStore
import Foundation
import PostgresNIO

extension IdentityStore {
    /// The roles Cellar's policies know, with the ids migration 0006 gives them.
    public static let standardRoles = ["admin", "member", "reader"]

    /// Makes sure the roles, project `admin` and user `admin` with role `admin` on it exist.
    ///
    /// Safe to call on every start and from several processes at once. An existing admin keeps its password.
    ///
    /// - Parameter password: the password for the admin user if this call creates it (evaluated only then).
    /// - Returns: true when this call created the admin user (so the caller knows to show the password).
    @discardableResult
    public func ensureAdmin(password: @autoclosure () -> String, projectName: String = "admin", userName: String = "admin") async throws -> Bool {
        try await transaction { connection in
            for role in Self.standardRoles {
                try await connection.guardedQuery(
                    """
                    INSERT INTO identity_roles (id, name) VALUES (md5(\("cellar-role:" + role)), \(role))
                    ON CONFLICT (name) DO NOTHING
                    """, logger: logger)
            }
            try await connection.guardedQuery(
                """
                INSERT INTO identity_projects (id, name, description)
                VALUES (\(SecureRandom.identifier()), \(projectName), 'Cellar administrators')
                ON CONFLICT (domain_id, name) DO NOTHING
                """, logger: logger)
        }
        guard let project = try await project(named: projectName) else { throw IdentityError.projectNotFound(projectName) }
        if let existing = try await user(named: userName) {
            try await transaction { try await assign("admin", userID: existing.id, projectID: project.id, on: $0) }
            return false
        }
        let hash = try hasher.hash(password())
        let created = try await transaction { connection in
            let rows = try await connection.guardedQuery(
                """
                INSERT INTO identity_users (id, name, password_hash, default_project_id)
                VALUES (\(SecureRandom.identifier()), \(userName), \(hash), \(project.id))
                ON CONFLICT (domain_id, name) DO NOTHING
                RETURNING id
                """, logger: logger)
            var created = false
            for try await _ in rows.decode(String.self) { created = true }
            return created
        }
        guard let admin = try await user(named: userName) else { throw IdentityError.userNotFound(userName) }
        try await transaction { try await assign("admin", userID: admin.id, projectID: project.id, on: $0) }
        if created { logger.info("created the admin user", metadata: ["user": "\(userName)", "project": "\(projectName)"]) }
        return created
    }
}
