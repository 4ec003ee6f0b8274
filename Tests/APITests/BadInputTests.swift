import API
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Lifecycle
import ReadModels
import Testing

@Suite("Bad requests get Trove error bodies, never a 5xx", .tags(.postgres))
struct BadInputTests {
    /// (body, expected status, fault name, a fragment of the message)
    static let badCreates: [(String, HTTPResponse.Status, String, String)] = [
        ("not json", .badRequest, "badRequest", "not valid JSON"),
        ("{}", .badRequest, "badRequest", "Missing 'instance'"),
        (#"{"instance": {}}"#, .badRequest, "badRequest", "Missing 'instance.name'"),
        (#"{"instance": {"name": 7}}"#, .badRequest, "badRequest", "'instance.name'"),
        (createBody().replacingOccurrences(of: "\"name\": \"orders\",", with: "\"name\": \"\","), .badRequest, "badRequest", "must not be empty"),
        (
            createBody().replacingOccurrences(of: "\"name\": \"orders\",", with: "\"name\": \"\(String(repeating: "x", count: 300))\","), .badRequest,
            "badRequest", "longer than 255"
        ),
        (createBody().replacingOccurrences(of: "\"flavorRef\": \"1\"", with: "\"flavorRef\": \"99\""), .badRequest, "badRequest", "Flavor 99"),
        (createBody().replacingOccurrences(of: "\"flavorRef\": \"1\"", with: "\"flavorRef\": [1]"), .badRequest, "badRequest", "instance.flavorRef"),
        (createBody().replacingOccurrences(of: "\"size\": 1", with: "\"size\": 0"), .badRequest, "badRequest", "between 1 and"),
        (createBody().replacingOccurrences(of: "\"size\": 1", with: "\"size\": \"big\""), .badRequest, "badRequest", "instance.volume.size"),
        (
            createBody().replacingOccurrences(of: "\"size\": 1", with: "\"size\": 1.5"), .badRequest, "badRequest",
            "Invalid type for 'instance.volume.size': expected an integer."
        ),
        (
            createBody().replacingOccurrences(of: "\"size\": 1", with: "\"size\": 1e20"), .badRequest, "badRequest",
            "Invalid type for 'instance.volume.size': expected an integer."
        ),
        (
            createBody().replacingOccurrences(of: "\"correct-horse\"", with: "\"correct-horse\", \"host\": \"10.0.0.0/8' ; --\""),
            .badRequest, "badRequest", "'instance.users[0].host' must be '%', an IP address, a CIDR network"
        ),
        (createBody().replacingOccurrences(of: "\"type\": \"postgresql\"", with: "\"type\": \"oracle\""), .notFound, "itemNotFound", "oracle"),
        (createBody().replacingOccurrences(of: "\"version\": \"15\"", with: "\"version\": \"7\""), .notFound, "itemNotFound", "version '7'"),
        (
            createBody().replacingOccurrences(of: "{\"name\": \"billing\"", with: "{\"name\": \"bad name!\""), .badRequest, "badRequest",
            "not a valid database name"
        ),
        (
            createBody().replacingOccurrences(of: "{\"name\": \"billing\"", with: "{\"name\": \"\(String(repeating: "d", count: 64))\""), .badRequest,
            "badRequest", "not a valid database name"
        ),
        (createBody().replacingOccurrences(of: "{\"name\": \"billing\"", with: "{\"name\": \"template1\""), .badRequest, "badRequest", "reserved"),
        (createBody().replacingOccurrences(of: "{\"name\": \"billing\"", with: "{\"name\": \"orders\""), .badRequest, "badRequest", "listed twice"),
        (createBody().replacingOccurrences(of: "\"password\": \"correct-horse\"", with: "\"password\": \"\""), .badRequest, "badRequest", "password"),
        (
            createBody().replacingOccurrences(of: "\"databases\": [{\"name\": \"orders\"}]}", with: "\"databases\": [{\"name\": \"nope\"}]}"),
            .badRequest, "badRequest", "nope"
        ),
        (createBody(", \"replica_of\": \"00000000-0000-0000-0000-000000000000\""), .notFound, "itemNotFound", "replica_of"),
    ]

    @Test("POST /instances with bad input", arguments: 0..<badCreates.count)
    func badCreate(_ index: Int) async throws {
        let (body, status, fault, fragment) = Self.badCreates[index]
        try await TroveAPIFixture.with { client, database in
            let reply = try await client.call(.post, "instances", body: body)
            #expect(reply.status == status)
            #expect(reply.fault?.name == fault)
            #expect(reply.fault?.code == Int(status.code))
            #expect(reply.fault?.message.contains(fragment) == true, "\(reply.fault?.message ?? "no message")")
            // Nothing was recorded.
            #expect(try await database.eventStore().readAll(after: .start).isEmpty)
        }
    }

    @Test("a body that is not UTF-8: 400 saying so, nothing recorded")
    func notUTF8() async throws {
        try await TroveAPIFixture.with { client, database in
            let body = Array(createBody().utf8).map { $0 == UInt8(ascii: "o") ? 0xFF : $0 }  // "orders" → invalid bytes
            let reply = try await client.call(.post, "instances", bytes: body)
            #expect(reply.status == .badRequest)
            #expect(reply.fault?.message.contains("not valid UTF-8") == true, "\(reply.fault?.message ?? "no message")")
            #expect(try await database.eventStore().readAll(after: .start).isEmpty)
        }
    }

    @Test("actions: malformed, not allowed in the current state, admin-only")
    func badActions() async throws {
        try await TroveAPIFixture.with { client, _ in
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            let cases: [(String, String, HTTPResponse.Status, String)] = [
                ("member", "{}", .badRequest, "exactly one"),
                ("member", #"{"restart": {}, "reset_status": {}}"#, .badRequest, "exactly one"),
                ("member", #"{"resize": {}}"#, .badRequest, "either 'flavorRef' or 'volume'"),
                ("member", #"{"restart": {}}"#, .unprocessableContent, "is BUILD"),
                ("member", #"{"resize": {"volume": {"size": 5}}}"#, .unprocessableContent, "is BUILD"),
                ("member", #"{"reset_status": {}}"#, .forbidden, "admin"),
                ("reader", #"{"restart": {}}"#, .forbidden, "reader"),
                ("member", "[", .badRequest, "not valid JSON"),
            ]
            for (token, body, status, fragment) in cases {
                let reply = try await client.call(.post, "instances/\(id)/action", as: token, body: body)
                #expect(reply.status == status, "\(body)")
                #expect(reply.fault?.message.contains(fragment) == true, "\(body): \(reply.fault?.message ?? "no message")")
            }
            let databases = try await client.call(.post, "instances/\(id)/databases", body: #"{"databases": [{"name": "x"}]}"#)
            #expect(databases.status == .unprocessableContent)
            #expect(databases.fault?.message.contains("BUILD") == true)
        }
    }

    @Test("tenancy: no token 401, another project's path 403, another project's instance 404, readers cannot write")
    func tenancy() async throws {
        try await TroveAPIFixture.with { client, _ in
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            let anonymous = try await client.call(.get, "instances", as: nil)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.fault?.name == "unauthorized")
            #expect(try await client.call(.get, "instances", as: "bogus").status == .unauthorized)
            #expect(try await client.call(.get, "instances", as: "other").status == .forbidden)
            #expect(try await client.call(.get, "instances/\(id)", as: "other", project: "beta").status == .notFound)
            #expect(try await client.call(.delete, "instances/\(id)", as: "other", project: "beta").status == .notFound)
            #expect(try await client.call(.get, "instances/\(id)/databases", as: "other", project: "beta").status == .notFound)
            #expect(try await client.call(.get, "instances/\(id)/events", as: "other", project: "beta").status == .notFound)
            let otherList = try await client.call(.get, "instances", as: "other", project: "beta")
            #expect((otherList.body["instances"] as? [any Sendable])?.isEmpty == true)
            #expect(try await client.call(.post, "instances", as: "reader", body: createBody()).status == .forbidden)
            #expect(try await client.call(.get, "instances/\(id)", as: "reader").status == .ok)
            #expect(try await client.call(.get, "instances/\(id)", as: "admin", project: "ops").status == .ok)
        }
    }

    @Test("a PostgreSQL database with a MySQL collation: 400 naming the field and the datastore, nothing recorded")
    func foreignCollation() async throws {
        try await TroveAPIFixture.with { client, database in
            let catalog = OperatorCatalog(client: database.client, logger: TestServers.logger)
            let version = try #require(try await catalog.versions().first { $0.manager == "postgresql" })
            try await catalog.storeParameters(
                [], characterSets: CharacterSetCatalog(characterSets: ["UTF8"], collations: ["C": "", "C.utf8": ""]),
                ofVersion: version.id)
            let body = createBody().replacingOccurrences(
                of: "{\"name\": \"billing\"", with: "{\"name\": \"billing\", \"collate\": \"utf8_general_ci\"")
            let reply = try await client.call(.post, "instances", body: body)
            #expect(reply.status == .badRequest)
            #expect(
                reply.fault?.message.contains("'instance.databases[1].collate' utf8_general_ci is not a collation of PostgreSQL") == true,
                "\(reply.fault?.message ?? "no message")")
            #expect(try await database.eventStore().readAll(after: .start).isEmpty)
        }
    }

    @Test("catalog and backup routes")
    func catalogAndBackups() async throws {
        try await clusterRequests()
        try await TroveAPIFixture.with { client, _ in
            let datastores = try await client.call(.get, "datastores")
            let names = Set(((datastores.body["datastores"] as? [[String: any Sendable]]) ?? []).compactMap { $0["name"] as? String })
            #expect(names == ["postgresql", "mariadb"])
            #expect(try await client.call(.get, "datastores/postgresql/versions/15").status == .ok)
            #expect(try await client.call(.get, "datastores/mariadb/versions/10.11").status == .ok)
            #expect(try await client.call(.get, "datastores/oracle").status == .notFound)
            #expect(try await client.call(.get, "flavors/1").status == .ok)
            #expect(try await client.call(.get, "flavors/99").status == .notFound)
            #expect(try await client.call(.get, "backups").status == .ok)
            #expect(try await client.call(.get, "backups/no-such-backup").status == .notFound)
            #expect(try await client.call(.get, "clusters").status == .ok)
            #expect(try await client.call(.get, "clusters/no-such-cluster").status == .notFound)
            #expect(try await client.call(.get, "instances?limit=zero").status == .badRequest)
            #expect(try await client.call(.get, "events?since=yesterday").status == .badRequest)
        }
    }

    /// Cluster creates the datastore refuses: each a 400 naming what is wrong, nothing recorded.
    func clusterRequests() async throws {
        try await TroveAPIFixture.with { client, _ in
            func create(_ datastore: String, _ version: String, members: Int, flavor: String = "1", extra: String = "") async throws -> JSONReply {
                let member = #"{"flavorRef": "\#(flavor)", "volume": {"size": 1}}"#
                let list = Array(repeating: member, count: members).joined(separator: ", ")
                return try await client.call(
                    .post, "clusters",
                    body: #"""
                        {"cluster": {"name": "c1", "datastore": {"type": "\#(datastore)", "version": "\#(version)"}, "instances": [\#(list)]\#(extra)}}
                        """#)
            }
            let two = try await create("mariadb", "10.11", members: 2)
            #expect(two.status == .badRequest && (two.fault?.message ?? "").contains("at least 3"), "\(two.body)")
            let postgres = try await create("postgresql", "15", members: 1)
            #expect(postgres.status == .badRequest && (postgres.fault?.message ?? "").contains("at least 2"), "\(postgres.body)")
            let algorithm = try await create("mariadb", "10.11", members: 3, extra: #", "extended_properties": {"algorithm": "random"}"#)
            #expect(algorithm.status == .badRequest && (algorithm.fault?.message ?? "").contains("roundrobin or leastconn"), "\(algorithm.body)")
            #expect(try await create("mariadb", "10.11", members: 3, flavor: "99").status == .badRequest)
            let listed = try await client.call(.get, "clusters")
            #expect((listed.body["clusters"] as? [Any])?.isEmpty == true, "a refused cluster was recorded")
        }
    }
}
