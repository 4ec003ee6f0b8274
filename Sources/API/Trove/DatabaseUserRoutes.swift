import APICore
import Foundation
import Hummingbird
import Lifecycle
import ReadModels

struct DatabaseView: Encodable {
    var name: String
    var characterSet: String?
    var collate: String?
    enum CodingKeys: String, CodingKey {
        case name, collate
        case characterSet = "character_set"
    }
}

struct UserView: Encodable {
    struct DatabaseName: Encodable { var name: String }
    var name: String
    var host: String
    var databases: [DatabaseName]
}

extension TroveAPI {
    func registerDatabaseAndUserRoutes(on routes: RouterGroup<CellarRequestContext>) {
        routes.get("instances/:id/databases") { request, context in
            let id = try await visibleInstance(context)
            let databases = try await reads.databases(of: id).map { DatabaseView(name: $0.name, characterSet: $0.characterSet, collate: $0.collate) }
            return try JSONResponse.make(["databases": databases])
        }
        routes.get("instances/:id/users") { request, context in
            let id = try await visibleInstance(context)
            return try JSONResponse.make(["users": try await reads.users(of: id).map(Self.view)])
        }
        routes.get("instances/:id/users/:user") { request, context in
            try JSONResponse.make(["user": Self.view(try await pathUser(context))])
        }
        routes.get("instances/:id/users/:user/databases") { request, context in
            try JSONResponse.make(["databases": Self.view(try await pathUser(context)).databases])
        }
        routes.get("instances/:id/root") { _, context in
            let caller = try context.caller()
            let id = try context.parameters.require("id")
            guard let state = try await commands.state(of: id, caller: caller) else {
                throw TroveError.notFound("Instance \(id) could not be found.")
            }
            return try JSONResponse.make(["rootEnabled": state.rootEnabled ?? false])
        }

        registerGuestChangeRoutes(on: routes)
    }

    /// The instance id of the path, if the caller may see it.
    private func visibleInstance(_ context: CellarRequestContext) async throws -> String {
        let caller = try context.caller()
        let id = try context.parameters.require("id")
        guard try await reads.instance(id, project: caller.isAdmin ? nil : caller.projectID) != nil else {
            throw TroveError.notFound("Instance \(id) could not be found.")
        }
        return id
    }

    /// The user the path names (`name` or `name@host`) on a visible instance; 404 otherwise.
    func pathUser(_ context: CellarRequestContext) async throws -> UserRecord {
        let id = try await visibleInstance(context)
        let raw = try context.parameters.require("user")
        let wanted = raw.removingPercentEncoding ?? raw
        let (name, host) = Self.splitUser(wanted)
        guard let user = try await reads.users(of: id).first(where: { $0.name == name && (host == nil || $0.host == host) }) else {
            throw TroveError.notFound("User \(wanted) of instance \(id) could not be found.")
        }
        return user
    }

    static func view(_ user: UserRecord) -> UserView {
        UserView(name: user.name, host: user.host, databases: user.databases.map(UserView.DatabaseName.init))
    }

    /// `name` or `name@host` (troveclient quotes `.` as `%2e`).
    static func splitUser(_ text: String) -> (name: String, host: String?) {
        guard let at = text.lastIndex(of: "@") else { return (text, nil) }
        return (String(text[..<at]), String(text[text.index(after: at)...]))
    }
}
