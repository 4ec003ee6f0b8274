import CellarTestSupport
import Foundation
import Testing

@testable import Identity

/// Identity under attack: Keystone's lockout per user (in the database, so every API process sees it) and a
/// limit of failed logins per source address (refused before any password is hashed).
@Suite("Lockout and login throttling", .tags(.postgres))
struct LockoutTests {
    @Test("the third wrong password in a row locks the user: even the right one is refused until the lockout ends; a success resets the count")
    func lockout() async throws {
        try await TestDatabase.with { database in
            let store = IdentityStore(
                client: database.client, logger: TestServers.logger, passwordHasher: Fixtures.fastHasher,
                lockout: LockoutPolicy(failureAttempts: 3, duration: .seconds(2)))
            _ = try await store.createProject(name: "demo", description: "")
            _ = try await store.createUser(name: "demo", password: Fixtures.password, defaultProject: "demo", roles: ["member"])
            _ = try await store.createUser(name: "other", password: Fixtures.password, defaultProject: "demo", roles: ["member"])
            let right = PasswordAuthRequest.names(user: "demo", password: Fixtures.password, project: "demo")
            let wrong = PasswordAuthRequest.names(user: "demo", password: "guess", project: "demo")

            // Two failures, then a success: the count starts again.
            for _ in 0..<2 { await #expect(throws: IdentityError.invalidCredentials) { try await store.authenticate(wrong) } }
            _ = try await store.authenticate(right)
            for _ in 0..<2 { await #expect(throws: IdentityError.invalidCredentials) { try await store.authenticate(wrong) } }
            _ = try await store.authenticate(right)

            // Three in a row: locked, the right password included; another user is not.
            for _ in 0..<3 { await #expect(throws: IdentityError.invalidCredentials) { try await store.authenticate(wrong) } }
            await #expect(throws: IdentityError.accountLocked) { try await store.authenticate(right) }
            _ = try await store.authenticate(.names(user: "other", password: Fixtures.password, project: "demo"))
            #expect(KeystoneError(.accountLocked).status == .unauthorized)

            try await Task.sleep(for: .milliseconds(2200))
            _ = try await store.authenticate(right)
        }
    }

    @Test("a source past its limit of failures is refused until the window has passed; other sources are not")
    func throttle() {
        let throttle = LoginThrottle(limit: 3, window: .seconds(60))
        let start = ContinuousClock.now
        for second in 0..<3 {
            #expect(throttle.refusal(for: "198.18.0.7", at: start + .seconds(second)) == nil)
            throttle.recordFailure(from: "198.18.0.7", at: start + .seconds(second))
        }
        #expect(throttle.refusal(for: "198.18.0.7", at: start + .seconds(3)) == .seconds(57))
        #expect(throttle.refusal(for: "198.18.0.8", at: start + .seconds(3)) == nil)
        #expect(throttle.refusal(for: nil, at: start + .seconds(3)) == nil)
        #expect(throttle.refusal(for: "198.18.0.7", at: start + .seconds(61)) == nil, "the first failure has left the window")
        #expect(KeystoneError(.tooManyFailedLogins(retryAfterSeconds: 57)).status == .tooManyRequests)
    }
}
