import Hummingbird

extension IdentityRoutes {
    /// `GET /v3/auth/projects`: the projects where the caller holds a role.
    func callerProjects(_ request: Request, prefix: String) async throws -> Response {
        let caller = try await caller(request)
        let base = catalog.baseURL(for: request)
        let projects = try await store.projects(ofUser: caller.userID).map { KeystoneBodies.project($0, baseURL: base) }
        return KeystoneBodies.collection("projects", projects, selfURL: "\(base)\(prefix)/auth/projects").response(status: .ok)
    }

    /// `GET /v3/users/{user_id}/projects` (`openstack project list --my-projects`): an admin may ask about anyone,
    /// a user only about themself.
    func userProjects(_ request: Request, userID: String, prefix: String) async throws -> Response {
        let caller = try await caller(request)
        guard caller.context.isAdmin || caller.userID == userID else { throw IdentityError.forbidden("identity:list_user_projects") }
        let base = catalog.baseURL(for: request)
        let projects = try await store.projects(ofUser: userID).map { KeystoneBodies.project($0, baseURL: base) }
        return KeystoneBodies.collection("projects", projects, selfURL: "\(base)\(prefix)/users/\(userID)/projects").response(status: .ok)
    }

    /// `GET /v3/projects` (admin only): every project.
    func allProjects(_ request: Request, prefix: String) async throws -> Response {
        _ = try await admin(request, policy: "identity:list_projects")
        let base = catalog.baseURL(for: request)
        let projects = try await store.projects().map { KeystoneBodies.project($0, baseURL: base) }
        return KeystoneBodies.collection("projects", projects, selfURL: "\(base)\(prefix)/projects").response(status: .ok)
    }

    /// `GET /v3/users` (admin only): every user, without passwords.
    func allUsers(_ request: Request, prefix: String) async throws -> Response {
        _ = try await admin(request, policy: "identity:list_users")
        let base = catalog.baseURL(for: request)
        let users = try await store.users().map { KeystoneBodies.user($0, baseURL: base) }
        return KeystoneBodies.collection("users", users, selfURL: "\(base)\(prefix)/users").response(status: .ok)
    }
}
