import API
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Secrets
import Testing

@Suite("Trove instances API", .tags(.postgres))
struct InstanceAPITests {
    @Test("a user's access list, and reset_status on an ACTIVE instance, as Trove answers them")
    func accessListAndReset() async throws {
        try await TroveAPIFixture.with { client, database in
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            try await InstanceFacts(database).activate(id)
            let access = try await client.call(.get, "instances/\(id)/users/app/databases")
            #expect(access.status == .ok)
            #expect((access.body["databases"] as? [[String: any Sendable]])?.compactMap { $0["name"] as? String } == ["orders"])
            #expect(try await client.call(.get, "instances/\(id)/users/nobody/databases").status == .notFound)

            let reset = try await client.call(.post, "instances/\(id)/action", as: "admin", project: "ops", body: #"{"reset_status": {}}"#)
            #expect(reset.status == .accepted, "\(reset.body)")
            let shown = try #require(try await client.call(.get, "instances/\(id)")["instance"])
            #expect(shown["status"] as? String == "ACTIVE")
            #expect(shown["operating_status"] as? String == "ERROR", "health unknown until the guest reports")
        }
    }

    @Test("create → list → show → databases → users → events → delete → 404")
    func lifecycle() async throws {
        try await TroveAPIFixture.with { client, database in
            let created = try await client.call(.post, "instances", body: createBody())
            #expect(created.status == .ok)
            let instance = try #require(created["instance"])
            let id = try #require(instance["id"] as? String)
            #expect(instance["status"] as? String == "BUILD")
            #expect(instance["operating_status"] as? String == "")
            #expect((instance["volume"] as? [String: any Sendable])?["size"] as? Int == 1)

            let list = try await client.call(.get, "instances?include_clustered=False")
            #expect(((list.body["instances"] as? [any Sendable]) ?? []).count == 1)
            let shown = try await client.call(.get, "instances/\(id)")
            #expect(shown.status == .ok)
            #expect(shown.headers[.eTag] == "\"1\"")

            let databases = try await client.call(.get, "instances/\(id)/databases")
            #expect((databases.body["databases"] as? [[String: any Sendable]])?.compactMap { $0["name"] as? String } == ["billing", "orders"])
            let users = try await client.call(.get, "instances/\(id)/users")
            #expect((users.body["users"] as? [[String: any Sendable]])?.first?["name"] as? String == "app")
            #expect(try await client.call(.get, "instances/\(id)/users/app%40%25").status == .ok)

            let history = try await client.call(.get, "instances/\(id)/events")
            let events = try #require(history.body["events"] as? [[String: any Sendable]])
            #expect(events.first?["type"] as? String == "InstanceCreateRequested")
            #expect(events.first?["actor"] as? String == "u-alice")
            #expect((events.first?["request_id"] as? String)?.hasPrefix("req-") == true)

            // The password waits for the guest sealed in pending_secrets, bound to its instance and user.
            let sealed = try await database.client.query(
                "SELECT name, sealed FROM pending_secrets WHERE stream_id = \("instance-" + id)", logger: TestServers.logger)
            var secrets: [(String, String)] = []
            for try await row in sealed.decode((String, String).self) { secrets.append(row) }
            #expect(secrets.map(\.0) == ["user:app@%"])
            let box = try SecretBox(base64Key: TroveAPIFixture.secretKey)
            #expect(try box.open(secrets[0].1, context: "instance-\(id)/user:app@%") == "correct-horse")
            #expect(throws: (any Error).self) { try box.open(secrets[0].1, context: "instance-other/user:app@%") }
            #expect(!secrets[0].1.contains("correct-horse"))

            #expect(try await client.call(.delete, "instances/\(id)").status == .accepted)
            let gone = try await client.call(.get, "instances/\(id)")
            #expect(gone.status == .notFound)
            #expect(gone.fault?.name == "itemNotFound")

            let left = try await database.client.query("SELECT count(*)::int FROM pending_secrets", logger: TestServers.logger)
            for try await count in left.decode(Int.self) { #expect(count == 0, "a deleted instance keeps no secrets") }

            // No password anywhere in the log.
            let rows = try await database.client.query(
                "SELECT count(*)::int FROM events WHERE data::text LIKE '%correct-horse%' OR metadata::text LIKE '%correct-horse%'",
                logger: TestServers.logger)
            for try await count in rows.decode(Int.self) { #expect(count == 0) }
        }
    }

    @Test("If-None-Match answers 304; ?wait holds the answer until the instance changes or the time is up")
    func conditionalAndLongPoll() async throws {
        try await TroveAPIFixture.with { client, _ in
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            let etag: HTTPFields = [.ifNoneMatch: "\"1\""]
            #expect(try await client.call(.get, "instances/\(id)", headers: etag).status == .notModified)
            let started = ContinuousClock.now
            #expect(try await client.call(.get, "instances/\(id)?wait=1", headers: etag).status == .notModified)
            #expect(ContinuousClock.now - started >= .milliseconds(900))
            #expect(try await client.call(.get, "instances/\(id)", headers: [.ifNoneMatch: "\"0\""]).status == .ok)
        }
    }

    @Test("pagination: limit and marker with a next link")
    func pagination() async throws {
        try await TroveAPIFixture.with { client, _ in
            for index in 0..<3 {
                _ = try await client.call(.post, "instances", body: createBody().replacingOccurrences(of: "\"orders\",", with: "\"db\(index)\","))
            }
            let first = try await client.call(.get, "instances?limit=2")
            #expect((first.body["instances"] as? [any Sendable])?.count == 2)
            let next = try #require((first.body["links"] as? [[String: any Sendable]])?.first?["href"] as? String)
            let marker = try #require(URLComponents(string: next)?.queryItems?.first { $0.name == "marker" }?.value)
            let second = try await client.call(.get, "instances?limit=2&marker=\(marker)")
            #expect((second.body["instances"] as? [any Sendable])?.count == 1)
            #expect(second.body["links"] == nil)
        }
    }
}
