import API
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Lifecycle
import ReadModels
import Testing

/// Configuration groups through the API without guests: validation, tenancy, the read model. (Applying them to
/// real servers is covered by the control-plane tests.)
@Suite("Configuration groups API", .tags(.postgres))
struct ConfigurationAPITests {
    /// A few parameters in the shape the real catalog loader stores (it reads them from pg_settings).
    static let parameters: [ConfigurationParameter] = [
        .init(name: "work_mem", type: .integer, min: 64, max: 2_147_483_647, restartRequired: false, unit: "kB"),
        .init(name: "max_connections", type: .integer, min: 1, max: 262_143, restartRequired: true),
        .init(name: "enable_seqscan", type: .boolean, restartRequired: false),
    ]

    static func loadParameters(_ database: TestDatabase) async throws {
        let catalog = OperatorCatalog(client: database.client, logger: TestServers.logger)
        for version in try await catalog.versions() { try await catalog.storeParameters(parameters, ofVersion: version.id) }
    }

    static let create = #"{"configuration": {"name": "tuned", "values": {"work_mem": 8192}, "datastore": {"type": "postgresql", "version": "15"}}}"#

    @Test("before the parameters are loaded a create is 422 with what to do")
    func parametersMissing() async throws {
        try await TroveAPIFixture.with { client, _ in
            let refused = try await client.call(.post, "configurations", body: Self.create)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.fault?.message.contains("cellar datastore load-parameters") == true)
        }
    }

    @Test("bad values are 400 naming the parameter and record nothing; the rest of the group's life")
    func lifecycle() async throws {
        try await TroveAPIFixture.with { client, database in
            try await Self.loadParameters(database)
            let bad: [(String, String)] = [
                (#"{"no_such": 1}"#, "no_such"), (#"{"work_mem": 1}"#, "work_mem"), (#"{"work_mem": "lots"}"#, "work_mem"),
                (#"{"max_connections": 1e9}"#, "max_connections"), (#"{"enable_seqscan": "perhaps"}"#, "enable_seqscan"),
            ]
            for (values, named) in bad {
                let body = #"{"configuration": {"name": "bad", "values": \#(values), "datastore": {"type": "postgresql", "version": "15"}}}"#
                let refused = try await client.call(.post, "configurations", body: body)
                #expect(refused.status == .badRequest, "\(values)")
                #expect(refused.fault?.message.contains(named) == true, "\(refused.fault?.message ?? "")")
            }
            #expect(try await database.eventStore().readAll(after: .start, limit: 100).isEmpty, "a refused group was recorded")
            #expect(
                try await client.call(
                    .post, "configurations", body: #"{"configuration": {"name": "x", "datastore": {"type": "mysql", "version": "8"}}}"#
                ).status == .notFound)
            #expect(try await client.call(.post, "configurations", as: "reader", body: Self.create).status == .forbidden)

            let created = try await client.call(.post, "configurations", body: Self.create)
            #expect(created.status == .ok)
            let group = try #require(created.body["configuration"] as? [String: any Sendable])
            let id = try #require(group["id"] as? String)
            #expect(group["instance_count"] as? Int == 0)
            #expect((group["values"] as? [String: any Sendable])?["work_mem"] as? Int == 8192)
            #expect(group["datastore_name"] as? String == "postgresql")

            #expect(try await client.call(.get, "configurations/\(id)", as: "other", project: "beta").status == .notFound)
            #expect(((try await client.call(.get, "configurations", as: "other", project: "beta")).body["configurations"] as? [Any])?.isEmpty == true)
            #expect(
                try await client.call(.patch, "configurations/\(id)", body: #"{"configuration": {"values": {"max_connections": 0}}}"#).status
                    == .badRequest)
            #expect(
                try await client.call(.patch, "configurations/\(id)", body: #"{"configuration": {"values": {"max_connections": 50}}}"#).status == .ok)
            let merged = try await client.call(.get, "configurations/\(id)").body["configuration"] as? [String: any Sendable]
            #expect((merged?["values"] as? [String: any Sendable])?.count == 2)
            #expect(
                try await client.call(.put, "configurations/\(id)", body: #"{"configuration": {"values": {"enable_seqscan": false}, "name": "g2"}}"#)
                    .status == .accepted)
            let replaced = try await client.call(.get, "configurations/\(id)").body["configuration"] as? [String: any Sendable]
            #expect(replaced?["name"] as? String == "g2")
            #expect((replaced?["values"] as? [String: any Sendable])?.keys.sorted() == ["enable_seqscan"])
            #expect(((try await client.call(.get, "configurations/\(id)/instances")).body["instances"] as? [Any])?.isEmpty == true)
            let list = try await client.call(.get, "configurations").body["configurations"] as? [[String: any Sendable]]
            #expect(list?.map { $0["id"] as? String } == [id])
            #expect(list?.first?["values"] == nil, "the list view carries no values, as Trove's")

            let parameters = try await client.call(.get, "datastores/postgresql/versions/15/parameters")
            #expect((parameters.body["configuration-parameters"] as? [Any])?.count == 3)
            #expect(try await client.call(.get, "datastores/postgresql/versions/15/parameters/work_mem").body["max"] as? Int == 2_147_483_647)
            #expect(try await client.call(.get, "datastores/postgresql/versions/15/parameters/nope").status == .notFound)

            #expect(try await client.call(.delete, "configurations/\(id)", as: "other", project: "beta").status == .notFound)
            #expect(try await client.call(.delete, "configurations/\(id)").status == .accepted)
            #expect(try await client.call(.get, "configurations/\(id)").status == .notFound)
            #expect(try await client.call(.delete, "configurations/\(id)").status == .notFound)
        }
    }

    @Test("PUT /instances/{id} refuses two changes at once and unknown groups; no 5xx")
    func updateInstance() async throws {
        try await TroveAPIFixture.with { client, database in
            try await Self.loadParameters(database)
            let created = try await client.call(.post, "instances", body: createBody())
            let id = try #require((created.body["instance"] as? [String: any Sendable])?["id"] as? String)
            let two = #"{"instance": {"configuration": "x", "access": {"is_public": true}}}"#
            #expect(try await client.call(.put, "instances/\(id)", body: two).status == .badRequest)
            #expect(try await client.call(.put, "instances/\(id)", body: #"{"instance": {"configuration": "nope"}}"#).status == .notFound)
            #expect(try await client.call(.put, "instances/\(id)", body: #"{"instance": {"name": 5}}"#).status == .badRequest)
            // Still building: a rename waits for the task, as the chart says.
            #expect(try await client.call(.put, "instances/\(id)", body: #"{"instance": {"name": "n2"}}"#).status == .unprocessableContent)
            #expect(try await client.call(.get, "instances/\(id)/configuration").status == .unprocessableContent)
            #expect(try await client.call(.get, "mgmt/instances/\(id)/root").status == .forbidden)
        }
    }
}

@Suite("Rate limits", .tags(.postgres))
struct RateLimitTests {
    @Test("past the limit a request gets 413 with the seconds to wait; GET /limits shows what is left")
    func limited() async throws {
        try await TroveAPIFixture.with(rateLimits: RateLimit.limits(get: 5, post: 2, put: 10, delete: 10, mgmtPost: 10)) { client, database in
            for _ in 1...2 { #expect(try await client.call(.post, "instances", body: createBody()).status == .ok) }
            let third = try await client.call(.post, "instances", body: createBody())
            #expect(third.status == .contentTooLarge)
            #expect(third.fault?.name == "overLimit")
            #expect(third.fault?.message.contains("2 POST request(s)") == true)
            let retryAfter = Int(third.headers[.retryAfter] ?? "")
            #expect(retryAfter != nil && retryAfter! > 0 && retryAfter! <= 60)
            #expect(((third.body["overLimit"] as? [String: any Sendable])?["retryAfter"] as? String) == third.headers[.retryAfter])
            #expect(try await client.call(.post, "instances", as: "other", project: "beta", body: createBody()).status == .ok, "limits are per user")

            let limits = try await client.call(.get, "limits").body["limits"] as? [[String: any Sendable]]
            let post = limits?.first { $0["verb"] as? String == "POST" && $0["uri"] as? String == "*" }
            #expect(post?["value"] as? Int == 2 && post?["remaining"] as? Int == 0 && post?["unit"] as? String == "MINUTE")
            #expect(limits?.first { $0["verb"] as? String == "GET" }?["remaining"] as? Int == 4)
            for _ in 1...4 { _ = try await client.call(.get, "flavors") }
            #expect(try await client.call(.get, "flavors").status == .contentTooLarge)
        }
    }

    @Test("CELLAR_RATE_LIMITS syntax")
    func parsing() throws {
        let limits = try RateLimit.parse("GET=10, post=3")
        #expect(limits.first { $0.verb == "GET" }?.value == 10)
        #expect(limits.first { $0.verb == "POST" && $0.uri == "*" }?.value == 3)
        #expect(limits.first { $0.verb == "PUT" }?.value == 200)
        #expect(throws: (any Error).self) { try RateLimit.parse("PATCH=1") }
        #expect(throws: (any Error).self) { try RateLimit.parse("GET=0") }
    }
}
