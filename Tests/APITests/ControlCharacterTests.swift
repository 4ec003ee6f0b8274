import API
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The one gate for control characters: path, query, headers and JSON bodies at any depth answer a Trove 400
/// naming the field, before anything reaches PostgreSQL (which cannot hold a NUL) or a guest.
@Suite("Control characters are refused with a 400 naming the field", .tags(.postgres))
struct ControlCharacterTests {
    /// (path with query, the field the answer names)
    static let queries: [(String, String)] = [
        ("instances?marker=abc%00def", "query parameter 'marker'"),
        ("instances/detail?marker=%7F", "query parameter 'marker'"),
        ("events?actor=a%00b", "query parameter 'actor'"),
        ("events?type=Instance%00Created", "query parameter 'type'"),
        ("events?resource=instance-a%00b", "query parameter 'resource'"),
        ("events?since=2026-01-01T00:00:00Z%0A", "query parameter 'since'"),
        ("events?x%00y=1", "a query parameter name"),
        ("instances/abc%00def", "path parameter 'id'"),
        ("instances/abc%00def/events?type=x", "path parameter 'id'"),
        ("flavors/1%1F", "path parameter 'flavor'"),
    ]

    @Test("path and query parameters", arguments: 0..<queries.count)
    func pathAndQuery(_ index: Int) async throws {
        let (path, field) = Self.queries[index]
        try await TroveAPIFixture.with { client, _ in
            for token in ["member", nil] as [String?] {
                let reply = try await client.call(.get, path, as: token)
                #expect(reply.status == .badRequest, "\(path) as \(token ?? "nobody")")
                #expect(reply.fault?.name == "badRequest")
                #expect(
                    reply.fault?.message.hasPrefix("\(field) contains a control character (U+") == true, "\(reply.fault?.message ?? "no message")")
            }
        }
    }

    @Test("the exact answer for a NUL in a query value")
    func exactMessage() async throws {
        try await TroveAPIFixture.with { client, _ in
            let reply = try await client.call(.get, "instances?marker=abc%00def")
            #expect(reply.fault?.message == "query parameter 'marker' contains a control character (U+0000); remove it.")
            #expect(reply.fault?.code == 400)
        }
    }

    @Test("a history filter of an existing instance")
    func historyOfInstance() async throws {
        try await TroveAPIFixture.with { client, _ in
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            for filter in ["actor=u%00", "type=%00", "after=1%00"] {
                let reply = try await client.call(.get, "instances/\(id)/events?\(filter)")
                #expect(reply.status == .badRequest, "\(filter)")
                #expect(reply.fault?.message.contains("contains a control character (U+0000)") == true)
            }
        }
    }

    /// (create body, the field named)
    static let bodies: [(String, String)] = [
        (createBody().replacingOccurrences(of: #""name": "orders","#, with: #""name": "ord\u0000ers","#), "'instance.name'"),
        (createBody().replacingOccurrences(of: #""name": "app""#, with: #""name": "a\u0000b""#), "'instance.users[0].name'"),
        (createBody().replacingOccurrences(of: "correct-horse", with: #"correct\u0000horse"#), "'instance.users[0].password'"),
        (createBody().replacingOccurrences(of: "correct-horse", with: #"correct\nhorse"#), "'instance.users[0].password'"),
        (
            createBody().replacingOccurrences(of: #""password": "correct-horse""#, with: #""password": "pw", "host": "%\u0000""#),
            "'instance.users[0].host'"
        ),
        (createBody().replacingOccurrences(of: #"{"name": "billing""#, with: #"{"name": "bill\u0001ing""#), "'instance.databases[1].name'"),
        (createBody().replacingOccurrences(of: #""UTF8""#, with: #""UTF8\u007F""#), "'instance.databases[1].character_set'"),
        (createBody(#", "nics": [{"net-id": "n\u0000"}]"#), "'instance.nics[0].net-id'"),
        (createBody(#", "locality\u0000": "x""#), "a member name in 'instance'"),
        (#"{"instance": {"name": "x", "deep": [[{"a": ["ok", "no\u0000"]}]]}}"#, "'instance.deep[0][0].a[1]'"),
    ]

    @Test("JSON bodies at any depth, passwords included, and nothing is recorded", arguments: 0..<bodies.count)
    func createBodies(_ index: Int) async throws {
        let (body, field) = Self.bodies[index]
        try await TroveAPIFixture.with { client, database in
            let reply = try await client.call(.post, "instances", body: body)
            #expect(reply.status == .badRequest)
            #expect(reply.fault?.message.hasPrefix("\(field) contains a control character (U+") == true, "\(reply.fault?.message ?? "no message")")
            #expect(reply.fault?.message.contains("horse") == false, "the answer must not echo the value")
            #expect(try await database.eventStore().readAll(after: .start).isEmpty)
        }
    }

    @Test("the exact answer for a NUL in a user name")
    func exactBodyMessage() async throws {
        try await TroveAPIFixture.with { client, _ in
            let body = createBody().replacingOccurrences(of: #""name": "app""#, with: #""name": "a\u0000b""#)
            let reply = try await client.call(.post, "instances", body: body)
            #expect(reply.fault?.message == "'instance.users[0].name' contains a control character (U+0000); remove it.")
        }
    }

    @Test("configuration, user and database bodies, and a path name")
    func otherRoutes() async throws {
        try await TroveAPIFixture.with { client, _ in
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            let cases: [(HTTPRequest.Method, String, String, String)] = [
                (
                    .post, "configurations", #"{"configuration": {"name": "g", "description": "line\u0000", "values": {}}}"#,
                    "'configuration.description'"
                ),
                (.post, "configurations", #"{"configuration": {"name": "g\u0000", "values": {}}}"#, "'configuration.name'"),
                (.post, "instances/\(id)/users", #"{"users": [{"name": "bob", "password": "p\u0000w"}]}"#, "'users[0].password'"),
                (.post, "instances/\(id)/users", #"{"users": [{"name": "bob", "password": "pw", "host": "1.2.3.4\u0000"}]}"#, "'users[0].host'"),
                (.put, "instances/\(id)/users", #"{"users": [{"name": "app", "password": "p\u0000w"}]}"#, "'users[0].password'"),
                (.put, "instances/\(id)/users/app", #"{"user": {"password": "\u0000"}}"#, "'user.password'"),
                (.post, "instances/\(id)/databases", #"{"databases": [{"name": "d\u0000"}]}"#, "'databases[0].name'"),
                (.post, "instances/\(id)/root", #"{"password": "r\u0000"}"#, "'password'"),
                (.put, "instances/\(id)", #"{"instance": {"name": "n\u0000"}}"#, "'instance.name'"),
                (.put, "mgmt/quotas/alpha", #"{"quotas": {"instances\u0000": 1}}"#, "a member name in 'quotas'"),
                (.delete, "instances/\(id)/databases/or%00ders", "", "path parameter 'name'"),
                (.delete, "instances/\(id)/users/app%40%00", "", "path parameter 'user'"),
            ]
            for (method, path, body, field) in cases {
                let reply = try await client.call(
                    method, path, as: path.hasPrefix("mgmt") ? "admin" : "member",
                    project: path.hasPrefix("mgmt") ? "ops" : "alpha", body: body.isEmpty ? nil : body)
                #expect(reply.status == .badRequest, "\(method) \(path)")
                #expect(
                    reply.fault?.message.hasPrefix("\(field) contains a control character") == true,
                    "\(method) \(path): \(reply.fault?.message ?? "no message")")
            }
        }
    }

    @Test("a header value, the token included (a tab is the one control character HTTP lets through)")
    func headers() async throws {
        try await TroveAPIFixture.with { client, _ in
            let token = try await client.call(.get, "instances", as: "mem\tber")
            #expect(token.status == .badRequest)
            #expect(token.fault?.message == "header 'X-Auth-Token' contains a control character (U+0009); remove it.")
            let other = try await client.call(.get, "flavors", headers: [.userAgent: "client\t1.0"])
            #expect(other.status == .badRequest)
            #expect(other.fault?.message.hasPrefix("header 'User-Agent'") == true)
        }
    }

    @Test("the version documents at / and /v1.0 pass the same gate")
    func versionRoutes() async throws {
        try await TroveAPIFixture.with { client, _ in
            for uri in ["/?x=%00", "/v1.0?x=%01"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                }
            }
            try await client.execute(uri: "/v1.0", method: .get) { response in #expect(response.status == .ok) }
        }
    }

    @Test("ordinary text with tabs spelled out, quotes and non-ASCII letters still passes")
    func ordinaryText() async throws {
        try await TroveAPIFixture.with { client, _ in
            let body = createBody().replacingOccurrences(of: #""name": "orders","#, with: #""name": "Bestellungen für \"Q4\" \\t","#)
            let reply = try await client.call(.post, "instances", body: body)
            #expect(reply.status == .ok, "\(reply.fault?.message ?? "")")
            #expect(reply["instance"]?["name"] as? String == #"Bestellungen für "Q4" \t"#)
        }
    }
}
