import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import API

/// A datastore user's host is `%`, an address, a CIDR network, or a host name pattern; anything else is a 400
/// naming the field, on create and on every users route.
@Suite("User hosts")
struct UserHostTests {
    @Test("accepted and refused forms")
    func forms() {
        for host in [
            "%", "10.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "::1", "fe80::/10", "::ffff:10.0.0.1", "2001:db8::/128",
            "db-1.example.com", "192.168.%", "app_host", "%.example.com",
        ] {
            #expect(UserHost.isAcceptable(host), "\(host)")
        }
        for host in [
            "", "10.0.0.0/8' ; --", "10.0.0.0/33", "::1/129", "10.0.0.0/+8", "10.0.0.0/", "a b", "host;", "'%'",
            "x/8", "1.2.3.4/8/8", "db.example.com:5432", String(repeating: "h", count: 256),
        ] {
            #expect(!UserHost.isAcceptable(host), "\(host)")
        }
    }

    @Test("create accepts every accepted form", .tags(.postgres))
    func createWithHosts() async throws {
        try await TroveAPIFixture.with { client, _ in
            let users = ["%", "10.0.0.0/8", "::1", "db-1.example.com", "192.168.%"].enumerated().map { index, host in
                #"{"name": "u\#(index)", "password": "pw", "host": "\#(host)"}"#
            }.joined(separator: ", ")
            let body = createBody().replacingOccurrences(
                of: #"[{"name": "app", "password": "correct-horse", "databases": [{"name": "orders"}]}]"#, with: "[\(users)]")
            let reply = try await client.call(.post, "instances", body: body)
            #expect(reply.status == .ok, "\(reply.fault?.message ?? "")")
            let id = try #require(reply["instance"]?["id"] as? String)
            let listed = try await client.call(.get, "instances/\(id)/users").body["users"] as? [[String: any Sendable]]
            #expect(Set(listed?.compactMap { $0["host"] as? String } ?? []) == ["%", "10.0.0.0/8", "::1", "db-1.example.com", "192.168.%"])
        }
    }

    @Test("the users routes refuse a bad host naming it", .tags(.postgres))
    func usersRoutes() async throws {
        try await TroveAPIFixture.with { client, database in
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            let before = try await database.eventStore().readAll(after: .start).count
            let bad = "10.0.0.0/8' ; --"
            let inPath = "app%40" + (bad.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            let cases: [(HTTPRequest.Method, String, String?, String)] = [
                (.post, "instances/\(id)/users", #"{"users": [{"name": "bob", "password": "pw", "host": "\#(bad)"}]}"#, "'users[0].host'"),
                (.put, "instances/\(id)/users", #"{"users": [{"name": "app", "password": "pw", "host": "\#(bad)"}]}"#, "'users[0].host'"),
                (.put, "instances/\(id)/users/app", #"{"user": {"host": "\#(bad)"}}"#, "'user.host'"),
                (.put, "instances/\(id)/users/\(inPath)", #"{"user": {"password": "pw"}}"#, "the host in path parameter 'user'"),
                (.delete, "instances/\(id)/users/\(inPath)", nil, "the host in path parameter 'user'"),
                (.put, "instances/\(id)/users/\(inPath)/databases", #"{"databases": [{"name": "orders"}]}"#, "the host in path parameter 'user'"),
                (.delete, "instances/\(id)/users/\(inPath)/databases/orders", nil, "the host in path parameter 'user'"),
            ]
            for (method, path, body, subject) in cases {
                let reply = try await client.call(method, path, body: body)
                #expect(reply.status == .badRequest, "\(method) \(path)")
                #expect(
                    reply.fault?.message.hasPrefix("\(subject) must be '%', an IP address") == true,
                    "\(method) \(path): \(reply.fault?.message ?? "no message")")
            }
            #expect(try await database.eventStore().readAll(after: .start).count == before, "a refused change was recorded")
        }
    }
}
