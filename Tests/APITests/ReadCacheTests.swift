import API
import CellarTestSupport
import EventStore
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

/// The API's in-memory rows (instances, catalog): the same answers as the database, pages included, a write
/// seen by the next read, and a change made elsewhere seen once PostgreSQL's notification arrives.
@Suite("read caches", .tags(.postgres))
struct ReadCacheTests {
    @Test("pages, show and writes through the cache answer as the database; a row changed by another process is seen after its NOTIFY")
    func instances() async throws {
        let caches = CacheInvalidation()
        try await TroveAPIFixture.with(caches: caches) { client, database in
            try await Self.until { caches.isLive }
            var ids: [String] = []
            for index in 0..<3 {
                let created = try await client.call(.post, "instances", body: createBody(#", "name": "n\#(index)""#))
                #expect(created.status == .ok, "\(created.body)")
                ids.append(try #require((created.body["instance"] as? [String: any Sendable])?["id"] as? String))
                // Read right after the write: the cache must not hide it.
                let listed = try await client.call(.get, "instances")
                #expect((listed.body["instances"] as? [[String: any Sendable]])?.count == index + 1)
            }
            let first = try await client.call(.get, "instances?limit=2")
            let firstPage = (first.body["instances"] as? [[String: any Sendable]])?.compactMap { $0["id"] as? String }
            #expect(firstPage == [ids[2], ids[1]])
            let second = try await client.call(.get, "instances?limit=2&marker=\(ids[1])")
            #expect((second.body["instances"] as? [[String: any Sendable]])?.compactMap { $0["id"] as? String } == [ids[0]])
            let unknown = try await client.call(.get, "instances?marker=no-such-instance")
            #expect((unknown.body["instances"] as? [[String: any Sendable]])?.isEmpty == true)

            // Changed by someone else (another API process's projection): seen once the notification arrives.
            let before = caches.generation
            try await database.client.query("UPDATE instances SET name = 'renamed elsewhere' WHERE id = \(ids[0])", logger: TestServers.logger)
            try await Self.until { caches.generation != before }
            let shown = try await client.call(.get, "instances/\(ids[0])")
            #expect((shown.body["instance"] as? [String: any Sendable])?["name"] as? String == "renamed elsewhere")
            #expect(try await client.call(.get, "instances/\(ids[0])", as: "other", project: "beta").status == .notFound)

            let beforeFlavor = caches.generation
            try await database.client.query("UPDATE flavors SET name = 'renamed.tiny' WHERE id = '1'", logger: TestServers.logger)
            try await Self.until { caches.generation != beforeFlavor }
            let flavors = try await client.call(.get, "flavors")
            #expect("\(flavors.body)".contains("renamed.tiny"))
        }
    }

    static func until(_ condition: @Sendable () -> Bool, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
