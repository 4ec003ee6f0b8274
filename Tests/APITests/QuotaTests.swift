import API
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Quotas and limits", .tags(.postgres))
struct QuotaTests {
    @Test("with a quota of 2 instances a third create gets 413 and leaves no event, secret or read-model row")
    func instanceQuota() async throws {
        try await TroveAPIFixture.with { client, database in
            #expect(try await client.call(.put, "mgmt/quotas/alpha", as: "member", body: #"{"quotas": {"instances": 2}}"#).status == .forbidden)
            #expect(
                try await client.call(.put, "mgmt/quotas/alpha", as: "admin", project: "ops", body: #"{"quotas": {"instances": 2}}"#).status == .ok)
            #expect(
                try await client.call(.put, "mgmt/quotas/alpha", as: "admin", project: "ops", body: #"{"quotas": {"cpus": 2}}"#).status == .badRequest
            )
            #expect(
                try await client.call(.put, "mgmt/quotas/alpha", as: "admin", project: "ops", body: #"{"quotas": {"instances": -5}}"#).status
                    == .badRequest)

            let limits = try await client.call(.get, "limits")
            #expect((limits.body["limits"] as? [[String: any Sendable]])?.first?["max_instances"] as? Int == 2)

            for name in ["one", "two"] {
                let created = try await client.call(
                    .post, "instances", body: createBody().replacingOccurrences(of: "\"name\": \"orders\",", with: "\"name\": \"\(name)\","))
                #expect(created.status == .ok)
            }
            let before = try await database.eventStore().readAll(after: .start, limit: 1000).count
            let third = try await client.call(.post, "instances", body: createBody())
            #expect(third.status == .contentTooLarge)
            #expect(third.fault?.name == "overLimit")
            #expect(third.fault?.message.contains("instances") == true)
            #expect(try await database.eventStore().readAll(after: .start, limit: 1000).count == before)
            let rows = try await database.client.query(
                "SELECT (SELECT count(*) FROM instances)::int, (SELECT count(*) FROM pending_secrets)::int", logger: TestServers.logger)
            for try await (instances, secrets) in rows.decode((Int, Int).self) {
                #expect(instances == 2)
                #expect(secrets == 2)
            }

            let quota = try await client.call(.get, "mgmt/quotas/alpha")
            let usage = (quota.body["quotas"] as? [[String: any Sendable]])?.first { $0["resource"] as? String == "instances" }
            #expect(usage?["in_use"] as? Int == 2)
            #expect(usage?["limit"] as? Int == 2)
            #expect(try await client.call(.get, "mgmt/quotas/alpha", as: "other", project: "beta").status == .forbidden)

            // Deleting one frees its place.
            let id = try #require(
                ((try await client.call(.get, "instances")).body["instances"] as? [[String: any Sendable]])?.first?["id"] as? String)
            #expect(try await client.call(.delete, "instances/\(id)").status == .accepted)
            #expect(try await client.call(.post, "instances", body: createBody()).status == .ok)
        }
    }

    @Test("volume gigabytes count too")
    func volumeQuota() async throws {
        try await TroveAPIFixture.with { client, _ in
            #expect(try await client.call(.put, "mgmt/quotas/alpha", as: "admin", project: "ops", body: #"{"quotas": {"volumes": 3}}"#).status == .ok)
            #expect(
                try await client.call(.post, "instances", body: createBody().replacingOccurrences(of: "\"size\": 1", with: "\"size\": 2")).status
                    == .ok)
            let over = try await client.call(.post, "instances", body: createBody().replacingOccurrences(of: "\"size\": 1", with: "\"size\": 2"))
            #expect(over.status == .contentTooLarge)
            #expect(over.fault?.message.contains("volumes") == true)
            #expect(try await client.call(.post, "instances", body: createBody()).status == .ok)
        }
    }
}
