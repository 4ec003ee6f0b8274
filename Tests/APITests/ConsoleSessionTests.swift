import API
import APICore
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Identity
import NIOCore
import ReadModels
import Secrets
import Testing

/// The web console's sessions against the real identity store: the token stays in an HttpOnly cookie, the cookie
/// authorizes nothing without the console's header, tenancy holds, and a signed-out cookie is refused.
@Suite("web console sessions")
struct ConsoleSessionTests {
    static let password = "a long enough password"

    struct People: Sendable {
        var alpha: String
        var beta: String
    }

    static func with(_ body: @Sendable @escaping (any TestClientProtocol, People) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            try await OperatorCatalog(client: database.client, logger: TestServers.logger).seedDefaults()
            let store = IdentityStore(
                client: database.client, logger: TestServers.logger,
                passwordHasher: PasswordHasher(iterations: PasswordHasher.minimumIterations))
            let alpha = try await store.createProject(name: "alpha")
            let beta = try await store.createProject(name: "beta")
            _ = try await store.createUser(name: "alice", password: password, defaultProject: "alpha", roles: ["member"])
            _ = try await store.createUser(name: "bob", password: password, defaultProject: "beta", roles: ["member"])
            let router = Router(context: CellarRequestContext.self)
            router.add(middleware: TroveErrorMiddleware())
            TroveAPI(
                client: database.client, store: database.eventStore(), charts: TroveAPIFixture.charts, validator: store,
                secrets: try SecretBox(base64Key: TroveAPIFixture.secretKey), changes: ReadModelChanges(), logger: TestServers.logger
            )
            .register(on: router)
            WebConsole(
                signIn: store, validator: store, assets: TestServers.projectRoot.appendingPathComponent("console"),
                statecharts: TestServers.projectRoot.appendingPathComponent("statecharts")
            )
            .register(on: router)
            try await Application(router: router).test(.router) { client in
                try await body(client, People(alpha: alpha.id, beta: beta.id))
            }
        }
    }

    @Test("sign-in sets an HttpOnly, SameSite=Strict cookie and never shows the token; a wrong password sets nothing")
    func signIn() async throws {
        try await Self.with { client, _ in
            let wrong = try await client.signIn("alice", password: "not the password", project: "alpha")
            #expect(wrong.status == .unauthorized && wrong.cookie == nil)
            let session = try await client.signIn("alice", project: "alpha")
            #expect(session.status == .ok)
            let setCookie = try #require(session.setCookie)
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"))
            let token = try #require(session.cookie)
            #expect(!session.body.contains(token), "the token is in the body scripts can read")
            #expect(session.body.contains("\"project_name\":\"alpha\""))
        }
    }

    @Test("the cookie works only with X-Cellar-Console; user B sees none of A's instances; a signed-out cookie is refused")
    func tenancyAndSignOut() async throws {
        try await Self.with { client, people in
            let alice = try #require(try await client.signIn("alice", project: "alpha").cookie)
            let bob = try #require(try await client.signIn("bob", project: "beta").cookie)
            let created = try await client.console(.post, "/v1.0/\(people.alpha)/instances", cookie: alice, body: createBody())
            #expect(created.status == .ok, "\(created.body)")
            let id = try #require(created.json?["instance"]?["id"] as? String)
            #expect(try await client.console(.get, "/v1.0/\(people.alpha)/instances", cookie: alice).body.contains(id))

            // A cross-site form can send the cookie but not the header: nothing is authorized.
            let noHeader = try await client.console(.get, "/v1.0/\(people.alpha)/instances", cookie: alice, header: false)
            #expect(noHeader.status == .unauthorized)
            let forged = try await client.console(.post, "/v1.0/\(people.alpha)/instances", cookie: alice, header: false, body: createBody())
            #expect(forged.status == .unauthorized)

            #expect(try await client.console(.get, "/v1.0/\(people.alpha)/instances", cookie: bob).status == .forbidden)
            #expect(try await client.console(.get, "/v1.0/\(people.alpha)/instances/\(id)", cookie: bob).status == .forbidden)
            #expect(try await client.console(.get, "/v1.0/\(people.beta)/instances/\(id)", cookie: bob).status == .notFound)
            #expect(try await client.console(.get, "/v1.0/\(people.beta)/instances/\(id)?as_of=1000000", cookie: bob).status == .notFound)
            #expect(try await client.console(.get, "/v1.0/\(people.beta)/instances/\(id)/events", cookie: bob).status == .notFound)
            #expect(!(try await client.console(.get, "/v1.0/\(people.beta)/instances/detail", cookie: bob).body.contains(id)))

            let signOut = try await client.console(.delete, "/console/api/session", cookie: alice)
            #expect(signOut.status == .noContent && signOut.setCookie?.contains("Max-Age=0") == true)
            #expect(try await client.console(.get, "/v1.0/\(people.alpha)/instances", cookie: alice).status == .unauthorized)
            #expect(try await client.console(.get, "/console/api/session", cookie: alice).status == .unauthorized)
            #expect(try await client.console(.get, "/console/api/session", cookie: bob).status == .ok)
        }
    }

    @Test("the console's files and statecharts are served; nothing outside its folder is")
    func files() async throws {
        try await Self.with { client, _ in
            let page = try await client.console(.get, "/console", cookie: nil)
            #expect(page.status == .ok && page.body.contains("<html"))
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.headers[.init("Content-Security-Policy")!]?.contains("default-src 'self'") == true)
            #expect(try await client.console(.get, "/console/..%2FPackage.swift", cookie: nil).status == .notFound)
            #expect(try await client.console(.get, "/console/js/..%2F..%2FPackage.swift", cookie: nil).status == .notFound)
            #expect(try await client.console(.get, "/console/.hidden", cookie: nil).status == .notFound)
            let chart = try await client.console(.get, "/console/api/statecharts/instance", cookie: nil)
            #expect(chart.status == .ok && chart.body.contains("<scxml"))
            #expect(try await client.console(.get, "/console/api/statecharts/secrets", cookie: nil).status == .notFound)
        }
    }
}

/// A console request's answer.
struct ConsoleReply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: String

    var setCookie: String? { headers[.setCookie] }
    /// The session cookie's value, when one was set.
    var cookie: String? {
        guard let setCookie, let pair = setCookie.split(separator: ";").first, pair.hasPrefix("\(WebConsole.cookieName)=") else { return nil }
        let value = String(pair.dropFirst(WebConsole.cookieName.count + 1))
        return value.isEmpty ? nil : value
    }
    var json: [String: [String: Any]]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: [String: Any]] }
}

extension TestClientProtocol {
    func signIn(_ user: String, password: String = ConsoleSessionTests.password, project: String) async throws -> ConsoleReply {
        let body = #"{"user": "\#(user)", "password": "\#(password)", "project": "\#(project)"}"#
        return try await console(.post, "/console/api/session", cookie: nil, body: body)
    }

    /// A request as the console's page sends it: the session cookie and (unless `header` is false) `X-Cellar-Console: 1`.
    func console(_ method: HTTPRequest.Method, _ uri: String, cookie: String?, header: Bool = true, body: String? = nil) async throws -> ConsoleReply
    {
        var fields: HTTPFields = [:]
        if let cookie { fields[.cookie] = "\(WebConsole.cookieName)=\(cookie)" }
        if header { fields[.init(WebConsole.requestHeader)!] = "1" }
        if body != nil { fields[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) }) {
            ConsoleReply(status: $0.status, headers: $0.headers, body: String(buffer: $0.body))
        }
    }
}
