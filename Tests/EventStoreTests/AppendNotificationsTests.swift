import CellarTestSupport
import EventStore
import Foundation
import PostgresNIO
import Testing

/// Appends notify (the store's NOTIFY really fires) and wake the waits for their stream only.
@Suite("Append notifications", .tags(.postgres))
struct AppendNotificationsTests {
    @Test("a wait for a stream ends at the append to it, not at its limit; an append to another stream leaves it waiting")
    func wakesOnItsStream() async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            let notifications = AppendNotifications()
            let listener = Task { await notifications.run(client: database.client, logger: TestServers.logger) }
            defer { listener.cancel() }
            // Until LISTEN is set up an append wakes nobody: warm up until one does (each wait is bounded).
            var woken = false
            for attempt in 0..<20 where !woken {
                let wait = Task { await notifications.nextAppend(to: ["warm-up"], limit: .seconds(5)) }
                try await Task.sleep(for: .milliseconds(50))
                let sent = ContinuousClock.now
                _ = try await store.append(to: "warm-up", expectedVersion: .any, events: [sample(n: attempt)])
                await wait.value
                woken = ContinuousClock.now - sent < .seconds(4)
            }
            #expect(woken, "no append ever woke a wait")

            let started = ContinuousClock.now
            let wait = Task { await notifications.nextAppend(to: ["instance-a"], limit: .seconds(60)) }
            try await Task.sleep(for: .milliseconds(50))
            _ = try await store.append(to: "instance-b", expectedVersion: .noStream, events: [sample(n: 1)])
            try await Task.sleep(for: .milliseconds(300))
            _ = try await store.append(to: "instance-a", expectedVersion: .noStream, events: [sample(n: 1)])
            await wait.value
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(350), "woken by another stream's append")
            #expect(waited < .seconds(30), "not woken by its own stream's append")
        }
    }
}
