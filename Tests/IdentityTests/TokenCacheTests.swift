import API
import CellarTestSupport
import EventStore
import Foundation
import Identity
import PostgresNIO
import Testing

/// Tokens validated from memory, forgotten when PostgreSQL says so: a revocation by any process, any change of
/// roles; nothing served from memory while the notifications do not arrive.
@Suite("token cache")
struct TokenCacheTests {
    @Test("a revoked token is forgotten through NOTIFY; a role change forgets every token; without the listener nothing is cached")
    func invalidation() async throws {
        try await Fixtures.withDemo { store, _, database in
            let invalidation = CacheInvalidation()
            let cache = TokenCache(store: store, invalidation: invalidation)
            let first = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo"))
            #expect(try await cache.validate(token: first.token) != nil)
            #expect(cache.count == 0, "kept although no notification can arrive")

            let listener = Task { await invalidation.run(client: database.client, logger: TestServers.logger) }
            defer { listener.cancel() }
            try await Self.until { invalidation.isLive }
            #expect(try await cache.validate(token: first.token)?.userName == "demo")
            #expect(cache.count == 1)

            // Revoked as another process would: straight in the database.
            let beforeRevocation = invalidation.generation
            try await database.client.query("UPDATE identity_tokens SET revoked_at = now() WHERE revoked_at IS NULL", logger: TestServers.logger)
            try await Self.until { invalidation.generation != beforeRevocation }
            #expect(cache.count == 0)
            #expect(try await cache.validate(token: first.token) == nil)

            let second = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo"))
            #expect(try await cache.validate(token: second.token)?.roles.contains("member") == true)
            let beforeRoleChange = invalidation.generation
            try await database.client.query(
                """
                DELETE FROM identity_role_assignments a USING identity_roles r WHERE a.role_id = r.id AND r.name = 'member'
                """, logger: TestServers.logger)
            try await Self.until { invalidation.generation != beforeRoleChange }
            #expect(cache.count == 0)
            #expect(try await cache.validate(token: second.token)?.roles == ["reader"], "the removed role is gone at once")
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
