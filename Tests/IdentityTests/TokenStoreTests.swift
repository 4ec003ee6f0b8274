import API
import APICore
import CellarTestSupport
import Foundation
import Identity
import PostgresNIO
import Testing

@Suite("IdentityStore: users, projects and tokens", .tags(.postgres))
struct TokenStoreTests {
    @Test("an issued token validates to the user, project and roles it was issued for")
    func issueAndValidate() async throws {
        try await Fixtures.withDemo { store, demo, _ in
            let now = Date()
            let issued = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo"), at: now)
            #expect(issued.info.userID == demo.user.id)
            #expect(issued.info.projectID == demo.project.id)
            #expect(issued.info.roles.map(\.name) == ["member", "reader"])
            #expect(abs(issued.info.expiresAt.timeIntervalSince(now) - 12 * 3600) < 0.001)
            let context = try await store.validate(token: issued.token)
            #expect(
                context
                    == AuthContext(
                        userID: demo.user.id, userName: "demo", projectID: demo.project.id,
                        projectName: "demo", roles: ["member", "reader"]))
            #expect(context?.canWrite == true)
            #expect(context?.isAdmin == false)
            #expect(try await store.tokenInfo(token: issued.token) == issued.info)
        }
    }

    @Test("by ids, in domain Default by name or id, and unscoped to the default project")
    func referenceForms() async throws {
        try await Fixtures.withDemo { store, demo, _ in
            let byID = try await store.authenticate(
                PasswordAuthRequest(
                    user: .id(demo.user.id), password: Fixtures.password,
                    project: .id(demo.project.id)))
            #expect(byID.info.projectName == "demo")
            let byDomainName = try await store.authenticate(
                PasswordAuthRequest(
                    user: .name("demo", domain: .name("Default")), password: Fixtures.password, project: .name("demo", domain: .name("default"))))
            #expect(byDomainName.info.userID == demo.user.id)
            let unscoped = try await store.authenticate(PasswordAuthRequest(user: .id(demo.user.id), password: Fixtures.password, project: nil))
            #expect(unscoped.info.projectID == demo.project.id)
        }
    }

    @Test("unknown user, wrong password, other domain and disabled user: the same error")
    func invalidCredentials() async throws {
        try await Fixtures.withDemo { store, demo, database in
            let attempts: [PasswordAuthRequest] = [
                .names(user: "nobody", password: Fixtures.password, project: "demo"),
                .names(user: "demo", password: "wrong", project: "demo"),
                .names(user: "demo", password: "", project: "demo"),
                PasswordAuthRequest(user: .id("0123456789abcdef0123456789abcdef"), password: Fixtures.password, project: .id(demo.project.id)),
                PasswordAuthRequest(user: .name("demo", domain: .name("other")), password: Fixtures.password, project: .id(demo.project.id)),
            ]
            for attempt in attempts {
                await #expect(throws: IdentityError.invalidCredentials) { try await store.authenticate(attempt) }
            }
            try await database.client.query("UPDATE identity_users SET enabled = false WHERE id = \(demo.user.id)", logger: TestServers.logger)
            await #expect(throws: IdentityError.invalidCredentials) {
                try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo"))
            }
        }
    }

    @Test("a project that does not exist, or where the user holds no role, is refused")
    func invalidScope() async throws {
        try await Fixtures.withDemo { store, _, _ in
            _ = try await store.createProject(name: "other")
            await #expect(throws: IdentityError.invalidScope) {
                try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "other"))
            }
            await #expect(throws: IdentityError.invalidScope) {
                try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "missing"))
            }
            _ = try await store.createUser(name: "homeless", password: "pw", defaultProject: nil)
            await #expect(throws: IdentityError.unscopedTokenRefused) {
                try await store.authenticate(PasswordAuthRequest(user: .name("homeless", domain: .id("default")), password: "pw", project: nil))
            }
        }
    }

    @Test("expired and revoked tokens, and unknown ones, validate to nil")
    func expiredAndRevoked() async throws {
        try await Fixtures.withDemo { store, _, _ in
            let request = PasswordAuthRequest.names(user: "demo", password: Fixtures.password, project: "demo")
            let old = try await store.authenticate(request, at: Date().addingTimeInterval(-12 * 3600 - 1))
            #expect(try await store.validate(token: old.token) == nil)
            #expect(try await store.revoke(token: old.token) == false)

            let current = try await store.authenticate(request)
            #expect(try await store.validate(token: current.token) != nil)
            #expect(try await store.revoke(token: current.token))
            #expect(try await store.validate(token: current.token) == nil)
            #expect(try await store.revoke(token: current.token) == false)

            #expect(try await store.validate(token: SecureRandom.token()) == nil)
            #expect(try await store.validate(token: "") == nil)
            #expect(try await store.purgeExpiredTokens() == 1)
        }
    }

    @Test("a short-lived store's tokens expire on time")
    func lifetime() async throws {
        try await Fixtures.withDemo { store, _, database in
            let shortLived = IdentityStore(
                client: database.client, logger: TestServers.logger, passwordHasher: Fixtures.fastHasher,
                tokenLifetime: .seconds(60))
            let now = Date()
            let issued = try await shortLived.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo"), at: now)
            #expect(try await store.tokenInfo(token: issued.token, at: now.addingTimeInterval(59)) != nil)
            #expect(try await store.tokenInfo(token: issued.token, at: now.addingTimeInterval(61)) == nil)
        }
    }

    @Test("a new password works, the old one no longer does, and the user's tokens are revoked")
    func passwordChange() async throws {
        try await Fixtures.withDemo { store, _, _ in
            let old = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo"))
            try await store.setPassword(user: "demo", password: "a new one")
            #expect(try await store.validate(token: old.token) == nil)
            await #expect(throws: IdentityError.invalidCredentials) {
                try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo"))
            }
            let fresh = try await store.authenticate(.names(user: "demo", password: "a new one", project: "demo"))
            #expect(try await store.validate(token: fresh.token)?.userName == "demo")
            await #expect(throws: IdentityError.userNotFound("nobody")) { try await store.setPassword(user: "nobody", password: "x") }
        }
    }

    @Test("a role removed after issue leaves the token; with no role left the token is invalid")
    func roleRemoval() async throws {
        try await Fixtures.withDemo { store, demo, database in
            let issued = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo"))
            try await database.client.query(
                """
                DELETE FROM identity_role_assignments a USING identity_roles r
                WHERE a.role_id = r.id AND r.name = 'member' AND a.user_id = \(demo.user.id)
                """, logger: TestServers.logger)
            #expect(try await store.validate(token: issued.token)?.roles == ["reader"])
            try await database.client.query("DELETE FROM identity_role_assignments WHERE user_id = \(demo.user.id)", logger: TestServers.logger)
            #expect(try await store.validate(token: issued.token) == nil)
        }
    }

    @Test("neither the password nor the token is stored in clear")
    func nothingInClear() async throws {
        try await Fixtures.withDemo { store, _, database in
            let issued = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo"))
            for table in ["identity_users", "identity_tokens", "identity_projects", "identity_role_assignments"] {
                let rows = try await database.client.query("SELECT row_to_json(t)::text FROM \(unescaped: table) t", logger: TestServers.logger)
                for try await row in rows.decode(String.self) {
                    #expect(!row.contains(Fixtures.password), "\(table)")
                    #expect(!row.contains(issued.token), "\(table)")
                }
            }
            let hashes = try await database.client.query("SELECT token_hash FROM identity_tokens", logger: TestServers.logger)
            for try await hash in hashes.decode(String.self) { #expect(hash == SecureRandom.tokenHash(issued.token)) }
        }
    }

    @Test("names are unique; unknown projects and roles are typed errors")
    func conflicts() async throws {
        try await Fixtures.withDemo { store, demo, _ in
            await #expect(throws: IdentityError.projectExists("demo")) { try await store.createProject(name: "demo") }
            await #expect(throws: IdentityError.userExists("demo")) {
                try await store.createUser(name: "demo", password: "x", defaultProject: "demo", roles: ["member"])
            }
            await #expect(throws: IdentityError.projectNotFound("nope")) {
                try await store.createUser(name: "new", password: "x", defaultProject: "nope", roles: ["member"])
            }
            await #expect(throws: IdentityError.roleNotFound("owner")) {
                try await store.createUser(name: "new", password: "x", defaultProject: "demo", roles: ["owner"])
            }
            #expect(try await store.user(named: "new") == nil)  // the failed creation left nothing behind
            await #expect(throws: IdentityError.invalidName("names must not be empty or start or end with spaces")) {
                try await store.createProject(name: " ")
            }
            try await store.assignRole("admin", user: "demo", project: demo.project.id)
            try await store.assignRole("admin", user: demo.user.id, project: "demo")
            #expect(try await store.roles(userID: demo.user.id, projectID: demo.project.id).map(\.name) == ["admin", "member", "reader"])
            #expect(try await store.projects(ofUser: demo.user.id).map(\.name) == ["demo"])
        }
    }

    @Test("ensureAdmin creates the admin once, keeps its password, and the admin can log in")
    func seeding() async throws {
        try await TestDatabase.with { database in
            let store = IdentityStore(client: database.client, logger: TestServers.logger, passwordHasher: Fixtures.fastHasher)
            #expect(try await store.ensureAdmin(password: "first"))
            #expect(try await store.ensureAdmin(password: "second") == false)
            #expect(try await store.roles().map(\.name) == ["admin", "member", "reader"])
            let token = try await store.authenticate(.names(user: "admin", password: "first", project: "admin"))
            #expect(token.info.context.isAdmin)
            await #expect(throws: IdentityError.invalidCredentials) {
                try await store.authenticate(.names(user: "admin", password: "second", project: "admin"))
            }
            let admin = try #require(try await store.user(named: "admin"))
            let project = try await store.project(named: "admin")
            #expect(admin.defaultProjectID == project?.id)
        }
    }
}
