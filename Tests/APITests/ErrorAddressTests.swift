import API
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A build that fails is compensated (its server and address released) before the instance shows ERROR: the
/// address may be another instance's by then, so the failed instance shows none.
@Suite("ERROR instances and their address", .tags(.postgres))
struct ErrorAddressTests {
    static func addresses(_ instance: [String: any Sendable]?) -> (ip: [String]?, addresses: [Any]?) {
        (instance?["ip"] as? [String], instance?["addresses"] as? [Any])
    }

    @Test("a failed build shows no ip or addresses, in show and in both lists")
    func failedBuild() async throws {
        try await TroveAPIFixture.with { client, database in
            let facts = try InstanceFacts(database)
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            try await facts.record(.recordComputeAllocated(serverId: "server-1", address: "127.42.0.9"), on: id)
            #expect(Self.addresses(try await client.call(.get, "instances/\(id)")["instance"]).ip == ["127.42.0.9"])
            try await facts.record(.recordGuestRegistered, on: id)
            try await facts.record(.recordFailure(reason: "prepareDatastore: the guest reported an error"), on: id)

            let shown = try await client.call(.get, "instances/\(id)")["instance"]
            #expect(shown?["status"] as? String == "ERROR")
            #expect(Self.addresses(shown).ip == nil)
            #expect(Self.addresses(shown).addresses == nil)
            for list in ["instances", "instances/detail"] {
                let listed = (try await client.call(.get, list).body["instances"] as? [[String: any Sendable]])?.first
                #expect(listed?["id"] as? String == id)
                #expect(Self.addresses(listed).ip == nil, "\(list)")
                #expect(Self.addresses(listed).addresses == nil, "\(list)")
            }
            // Deleting it does not bring the address back either.
            #expect(try await client.call(.delete, "instances/\(id)").status == .accepted)
            #expect(Self.addresses(try await client.call(.get, "instances/\(id)")["instance"]).ip == nil)
        }
    }

    @Test("an instance that fails after its build keeps its server and shows its address")
    func failedRestart() async throws {
        try await TroveAPIFixture.with { client, database in
            let facts = try InstanceFacts(database)
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            try await facts.activate(id, address: "127.42.0.10")
            #expect(try await client.call(.post, "instances/\(id)/action", body: #"{"restart": {}}"#).status == .accepted)
            try await facts.record(.recordFailure(reason: "restartDatastore: timed out"), on: id)
            let shown = try await client.call(.get, "instances/\(id)")["instance"]
            #expect(shown?["status"] as? String == "ERROR")
            #expect(Self.addresses(shown).ip == ["127.42.0.10"])
        }
    }
}
