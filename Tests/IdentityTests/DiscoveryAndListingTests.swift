import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Identity
import Testing

@Suite("Identity discovery and listings", .tags(.postgres))
struct DiscoveryAndListingTests {
    @Test("GET /v3 and /identity/v3 describe v3.14 with a self link; GET /identity lists it with 300")
    func discovery() async throws {
        try await Fixtures.withDemo { store, _, _ in
            try await Fixtures.app(store).test(.router) { client in
                for (path, href) in [
                    ("/v3", "\(Fixtures.publicURL)/v3/"), ("/v3/", "\(Fixtures.publicURL)/v3/"),
                    ("/identity/v3", "\(Fixtures.publicURL)/identity/v3/"),
                ] {
                    try await client.execute(uri: path, method: .get, headers: [.accept: "application/json"]) { response in
                        #expect(response.status == .ok)
                        let version = try #require(try Fixtures.json(response.body)["version"] as? [String: Any])
                        try Self.checkVersion(version, href: href)
                    }
                }
                try await client.execute(uri: "/identity", method: .get) { response in
                    #expect(response.status == .multipleChoices)
                    let versions = try #require(try Fixtures.json(response.body)["versions"] as? [String: Any])
                    let values = try #require(versions["values"] as? [[String: Any]])
                    #expect(values.count == 1)
                    try Self.checkVersion(values[0], href: "\(Fixtures.publicURL)/identity/v3/")
                }
            }
        }
    }

    @Test("without a configured public URL, links and the catalog follow the request's Host")
    func hostHeader() async throws {
        try await Fixtures.withDemo { store, demo, _ in
            try await Fixtures.app(store, publicURL: nil).test(.router) { client in
                try await client.execute(uri: "/v3", method: .get) { response in
                    let version = try #require(try Fixtures.json(response.body)["version"] as? [String: Any])
                    try Self.checkVersion(version, href: "http://localhost/v3/")
                }
                try await client.execute(uri: "/v3/auth/tokens", method: .post, body: ByteBuffer(string: Fixtures.passwordBody())) { response in
                    #expect(response.status == .created)
                    #expect(String(buffer: response.body).contains("\"http://localhost/v1.0/\(demo.project.id)\""))
                }
            }
        }
    }

    @Test("GET /v3/projects and /v3/users are for admins; /v3/auth/projects lists the caller's projects")
    func listings() async throws {
        try await Fixtures.withDemo { store, demo, _ in
            #expect(try await store.ensureAdmin(password: "adminpw"))
            let memberToken = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo")).token
            let adminToken = try await store.authenticate(.names(user: "admin", password: "adminpw", project: "admin")).token
            try await Fixtures.app(store).test(.router) { client in
                for path in ["/v3/projects", "/v3/users"] {
                    try await client.execute(uri: path, method: .get, headers: [Fixtures.authToken: memberToken]) { response in
                        #expect(response.status == .forbidden)
                        let error = try Fixtures.keystoneError(response.body)
                        #expect(error.title == "Forbidden")
                    }
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.status == .unauthorized)
                    }
                }
                try await client.execute(uri: "/v3/projects", method: .get, headers: [Fixtures.authToken: adminToken]) { response in
                    #expect(response.status == .ok)
                    let projects = try #require(try Fixtures.json(response.body)["projects"] as? [[String: Any]])
                    #expect(projects.compactMap { $0["name"] as? String } == ["admin", "demo"])
                }
                try await client.execute(uri: "/v3/users", method: .get, headers: [Fixtures.authToken: adminToken]) { response in
                    #expect(response.status == .ok)
                    let text = String(buffer: response.body)
                    #expect(!text.contains("pbkdf2"))
                    #expect(!text.contains("password_hash"))
                    let users = try #require(try Fixtures.json(response.body)["users"] as? [[String: Any]])
                    #expect(users.compactMap { $0["name"] as? String } == ["admin", "demo"])
                    #expect(users.first { $0["name"] as? String == "demo" }?["default_project_id"] as? String == demo.project.id)
                }
                for path in ["/v3/auth/projects", "/v3/users/\(demo.user.id)/projects"] {
                    try await client.execute(uri: path, method: .get, headers: [Fixtures.authToken: memberToken]) { response in
                        #expect(response.status == .ok)
                        let projects = try #require(try Fixtures.json(response.body)["projects"] as? [[String: Any]])
                        #expect(projects.compactMap { $0["id"] as? String } == [demo.project.id])
                    }
                }
                let admin = try #require(try await store.user(named: "admin"))
                try await client.execute(
                    uri: "/v3/users/\(admin.id)/projects", method: .get,
                    headers: [Fixtures.authToken: memberToken]
                ) { response in
                    #expect(response.status == .forbidden)
                }
            }
        }
    }

    static func checkVersion(_ version: [String: Any], href: String) throws {
        #expect(version["id"] as? String == "v3.14")
        #expect(version["status"] as? String == "stable")
        #expect(version["updated"] as? String == "2020-04-07T00:00:00Z")
        let links = try #require(version["links"] as? [[String: String]])
        #expect(links == [["rel": "self", "href": href]])
        let mediaTypes = try #require(version["media-types"] as? [[String: String]])
        #expect(mediaTypes == [["base": "application/json", "type": "application/vnd.openstack.identity-v3+json"]])
    }
}
