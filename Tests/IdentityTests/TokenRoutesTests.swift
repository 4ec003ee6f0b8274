import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Identity
import Testing

@Suite("POST|GET|HEAD|DELETE /v3/auth/tokens", .tags(.postgres))
struct TokenRoutesTests {
    @Test("by name and domain: 201, X-Subject-Token, and the body keystoneauth and troveclient read")
    func issueByName() async throws {
        try await Fixtures.withDemo { store, demo, _ in
            try await Fixtures.app(store).test(.router) { client in
                try await client.execute(
                    uri: "/v3/auth/tokens", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: Fixtures.passwordBody())
                ) { response in
                    #expect(response.status == .created)
                    let token = try #require(response.headers[Fixtures.subjectToken])
                    #expect(try await store.validate(token: token)?.projectID == demo.project.id)
                    #expect(response.headers[.contentType] == "application/json")
                    let body = try #require(try Fixtures.json(response.body)["token"] as? [String: Any])
                    try Self.checkTokenBody(body, demo: demo)
                }
            }
        }
    }

    @Test("by ids, also under /identity/v3")
    func issueByID() async throws {
        try await Fixtures.withDemo { store, demo, _ in
            try await Fixtures.app(store).test(.router) { client in
                for path in ["/v3/auth/tokens", "/identity/v3/auth/tokens"] {
                    let body = Fixtures.passwordBody(userID: demo.user.id, projectID: demo.project.id)
                    try await client.execute(uri: path, method: .post, body: ByteBuffer(string: body)) { response in
                        #expect(response.status == .created)
                        #expect(response.headers[Fixtures.subjectToken] != nil)
                        let token = try #require(try Fixtures.json(response.body)["token"] as? [String: Any])
                        try Self.checkTokenBody(token, demo: demo)
                    }
                }
            }
        }
    }

    @Test("GET validates (200, same body), HEAD answers 200, DELETE revokes (204), then 404")
    func validateAndRevoke() async throws {
        try await Fixtures.withDemo { store, demo, _ in
            let token = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo")).token
            try await Fixtures.app(store).test(.router) { client in
                let headers: HTTPFields = [Fixtures.authToken: token, Fixtures.subjectToken: token]
                try await client.execute(uri: "/v3/auth/tokens", method: .get, headers: headers) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[Fixtures.subjectToken] == token)
                    let body = try #require(try Fixtures.json(response.body)["token"] as? [String: Any])
                    try Self.checkTokenBody(body, demo: demo)
                }
                try await client.execute(uri: "/v3/auth/tokens?nocatalog", method: .get, headers: headers) { response in
                    #expect(response.status == .ok)
                    let body = try #require(try Fixtures.json(response.body)["token"] as? [String: Any])
                    #expect(body["catalog"] == nil)
                }
                try await client.execute(uri: "/v3/auth/tokens", method: .head, headers: headers) { response in
                    #expect(response.status == .ok)
                    #expect(response.body.readableBytes == 0)
                }
                try await client.execute(uri: "/v3/auth/tokens", method: .delete, headers: headers) { response in
                    #expect(response.status == .noContent)
                }
                #expect(try await store.validate(token: token) == nil)
                let fresh = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo")).token
                let afterRevoke: HTTPFields = [Fixtures.authToken: fresh, Fixtures.subjectToken: token]
                for method in [HTTPRequest.Method.get, .head, .delete] {
                    try await client.execute(uri: "/v3/auth/tokens", method: method, headers: afterRevoke) { response in
                        #expect(response.status == .notFound, "\(method)")
                    }
                }
            }
        }
    }

    @Test("validation needs a valid X-Auth-Token; a non-admin may only look at their own tokens")
    func validationPolicy() async throws {
        try await Fixtures.withDemo { store, _, _ in
            let demoToken = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo")).token
            _ = try await store.createUser(name: "other", password: "pw2", defaultProject: "demo", roles: ["member"])
            let otherToken = try await store.authenticate(.names(user: "other", password: "pw2", project: "demo")).token
            #expect(try await store.ensureAdmin(password: "adminpw"))
            let adminToken = try await store.authenticate(.names(user: "admin", password: "adminpw", project: "admin")).token
            try await Fixtures.app(store).test(.router) { client in
                let cases: [(String?, HTTPResponse.Status)] = [
                    (nil, .unauthorized), ("bogus", .unauthorized), (otherToken, .forbidden), (adminToken, .ok), (demoToken, .ok),
                ]
                for (caller, status) in cases {
                    var headers: HTTPFields = [Fixtures.subjectToken: demoToken]
                    if let caller { headers[Fixtures.authToken] = caller }
                    try await client.execute(uri: "/v3/auth/tokens", method: .get, headers: headers) { response in
                        #expect(response.status == status)
                        if status != .ok {
                            let error = try Fixtures.keystoneError(response.body)
                            #expect(error.code == Int(status.code))
                        }
                    }
                }
            }
        }
    }

    /// The fields keystoneauth and troveclient need, in Keystone's formats.
    static func checkTokenBody(_ token: [String: Any], demo: Fixtures.Demo) throws {
        #expect(token["methods"] as? [String] == ["password"])
        let expiresAt = try #require(token["expires_at"] as? String)
        let issuedAt = try #require(token["issued_at"] as? String)
        let format = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/#
        #expect(expiresAt.wholeMatch(of: format) != nil, "\(expiresAt)")
        #expect(issuedAt.wholeMatch(of: format) != nil, "\(issuedAt)")
        #expect((token["audit_ids"] as? [String])?.count == 1)
        #expect(token["is_domain"] as? Bool == false)
        let user = try #require(token["user"] as? [String: Any])
        #expect(user["id"] as? String == demo.user.id)
        #expect(user["name"] as? String == "demo")
        #expect((user["domain"] as? [String: String]) == ["id": "default", "name": "Default"])
        #expect(user.keys.contains("password_expires_at") && user["password_expires_at"] is NSNull)
        let project = try #require(token["project"] as? [String: Any])
        #expect(project["id"] as? String == demo.project.id)
        #expect(project["name"] as? String == "demo")
        let roles = try #require(token["roles"] as? [[String: String]])
        #expect(roles.compactMap { $0["name"] } == ["member", "reader"])
        #expect(roles.allSatisfy { $0["id"]?.count == 32 })

        let catalog = try #require(token["catalog"] as? [[String: Any]])
        let database = try #require(catalog.first { $0["type"] as? String == "database" })
        let endpoints = try #require(database["endpoints"] as? [[String: String]])
        #expect(Set(endpoints.compactMap { $0["interface"] }) == ["public", "internal", "admin"])
        let publicEndpoint = try #require(endpoints.first { $0["interface"] == "public" })
        #expect(publicEndpoint["url"] == "\(Fixtures.publicURL)/v1.0/\(demo.project.id)")
        #expect(publicEndpoint["url"]?.hasSuffix("/v1.0/\(demo.project.id)") == true)
        #expect(publicEndpoint["region"] == "RegionOne")
        #expect(publicEndpoint["region_id"] == "RegionOne")
        let identity = try #require(catalog.first { $0["type"] as? String == "identity" })
        let identityURLs = (identity["endpoints"] as? [[String: String]])?.compactMap { $0["url"] }
        #expect(identityURLs?.first == "\(Fixtures.publicURL)/v3")
    }
}
