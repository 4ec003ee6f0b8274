import API
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Identity
import PostgresNIO
import Testing

/// Shared set-up: a store over a fresh migrated database, with cheap hashes so the suite stays fast.
enum Fixtures {
    /// Fewer PBKDF2 rounds than production; one test checks the default.
    static let fastHasher = PasswordHasher(iterations: PasswordHasher.minimumIterations)
    static let password = "correct horse battery staple"
    static let publicURL = "http://cellar.test:8779"

    /// A store on a fresh database, with project `demo` and user `demo` (member, reader) in it.
    static func withDemo<T: Sendable>(_ body: @Sendable (IdentityStore, Demo, TestDatabase) async throws -> T) async throws -> T {
        try await TestDatabase.with { database in
            let store = IdentityStore(client: database.client, logger: TestServers.logger, passwordHasher: fastHasher)
            let project = try await store.createProject(name: "demo", description: "a demo project")
            let user = try await store.createUser(name: "demo", password: password, defaultProject: "demo", roles: ["member", "reader"])
            return try await body(store, Demo(project: project, user: user), database)
        }
    }

    /// The demo project and user.
    struct Demo: Sendable {
        var project: Project
        var user: User
    }

    /// A router with the identity routes only, as `cellar up` mounts them.
    static func app(_ store: IdentityStore, publicURL: String? = Fixtures.publicURL) -> some ApplicationProtocol {
        let router = Router()
        router.addIdentityRoutes(store: store, catalog: ServiceCatalog(publicURL: publicURL))
        return Application(router: router)
    }

    /// The body troveclient sends, by names in the default domain.
    static func passwordBody(user: String = "demo", password: String = Fixtures.password, project: String = "demo") -> String {
        """
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": \(quoted(password)), "name": \(quoted(user)),
         "domain": {"name": "Default"}}}}, "scope": {"project": {"name": \(quoted(project)), "domain": {"name": "Default"}}}}}
        """
    }

    /// The same by ids.
    static func passwordBody(userID: String, projectID: String, password: String = Fixtures.password) -> String {
        """
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "\(userID)", "password": \(quoted(password))}}},
         "scope": {"project": {"id": "\(projectID)"}}}}
        """
    }

    static func quoted(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }

    /// A response body as JSON.
    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))
        return try #require(object as? [String: Any])
    }

    /// The `error` member of a Keystone error body.
    static func keystoneError(_ buffer: ByteBuffer) throws -> (code: Int, message: String, title: String) {
        let error = try #require(try json(buffer)["error"] as? [String: Any])
        return (try #require(error["code"] as? Int), try #require(error["message"] as? String), try #require(error["title"] as? String))
    }

    static let authToken = HTTPFields.Element.Name("X-Auth-Token")!
    static let subjectToken = HTTPFields.Element.Name("X-Subject-Token")!
}
