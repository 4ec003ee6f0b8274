import API
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import ReadModels
import Testing

/// Trove's `default_datastore`: what a create without `datastore` gets, chosen by the operator.
@Suite("Default datastore", .tags(.postgres))
struct DefaultDatastoreTests {
    static let withoutDatastore = #"""
        {"instance": {"name": "sample", "flavorRef": "1", "volume": {"size": 1}, "nics": [{"net-id": "private"}],
          "databases": [{"name": "sampledb0", "character_set": "utf8", "collate": "utf8_general_ci"}, {"name": "sampledb1"}],
          "users": [{"name": "admin", "password": "admin", "databases": [{"name": "sampledb1"}]}]}}
        """#

    @Test(
        "out of the box MariaDB is the default (GET /datastores says so) and a create without datastore gets its default version; with none chosen the create is refused naming the choices; another default takes effect"
    )
    func defaultDatastore() async throws {
        try await TroveAPIFixture.with { client, database in
            let listed = try #require(try await client.call(.get, "datastores").body["datastores"] as? [[String: any Sendable]])
            #expect(listed.filter { $0["default"] as? Int == 1 }.compactMap { $0["name"] as? String } == ["mariadb"], "\(listed)")
            // Ids derived from the names (FNV-1a), the same on every server and in every release: stored rows use them.
            var ids: [String: String] = [:]
            for entry in listed { if let name = entry["name"] as? String { ids[name] = entry["id"] as? String } }
            #expect(ids == ["mariadb": "e8fcecfb-d827-b7d8-91a5-c798efe9c40a", "postgresql": "f5b4b65e-2e83-a81e-aa3b-5166bd4b858f"])

            let created = try await client.call(.post, "instances", body: Self.withoutDatastore)
            #expect(created.status == .ok, "\(created.body)")
            let datastore = (created.body["instance"] as? [String: any Sendable])?["datastore"] as? [String: any Sendable]
            #expect(datastore?["type"] as? String == "mariadb" && datastore?["version"] as? String == "10.11", "\(created.body)")

            let catalog = OperatorCatalog(client: database.client, logger: TestServers.logger)
            try await catalog.setDefault(datastore: nil)
            let refused = try await client.call(.post, "instances", body: Self.withoutDatastore)
            #expect(refused.status == .badRequest, "\(refused.body)")
            #expect((refused.fault?.message ?? "").contains("choose one of: mariadb, postgresql"), "\(refused.body)")

            try await catalog.setDefault(datastore: "postgresql", version: "15")
            // (Without the server's catalogue of collations, loaded by `cellar up`, the collation is not checked here;
            // the troveclient script checks that refusal against a real server.)
            let onPostgres = try await client.call(
                .post, "instances", body: Self.withoutDatastore.replacingOccurrences(of: ", \"collate\": \"utf8_general_ci\"", with: ""))
            #expect(onPostgres.status == .ok, "\(onPostgres.body)")
            #expect(
                ((onPostgres.body["instance"] as? [String: any Sendable])?["datastore"] as? [String: any Sendable])?["type"] as? String
                    == "postgresql")
            let defaults = try await catalog.datastores().filter(\.isDefault).map(\.name)
            #expect(defaults == ["postgresql"])

            await #expect(throws: CatalogError.unknownDatastore("oracle", choices: ["mariadb", "postgresql"])) {
                try await catalog.setDefault(datastore: "oracle")
            }
            await #expect(throws: CatalogError.unknownVersion("9", datastore: "mariadb", choices: ["10.11"])) {
                try await catalog.setDefault(datastore: "mariadb", version: "9")
            }
            #expect(try await catalog.datastores().filter(\.isDefault).map(\.name) == ["postgresql"], "a refused change changes nothing")
        }
    }
}
