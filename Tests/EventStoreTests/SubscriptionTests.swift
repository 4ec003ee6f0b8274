import CellarTestSupport
import EventStore
import Foundation
import Testing

@Suite("Subscriptions", .tags(.postgres))
struct SubscriptionTests {
    @Test("a subscription first catches up on history, then delivers new appends, from a given position")
    func catchUpThenLive() async throws {
        try await TestDatabase.with { database in
            let store = database.eventStore()
            for n in 1...5 { _ = try await store.append(to: "sub-\(n)", expectedVersion: .noStream, events: [sample(n: n)]) }
            let history = try await readAllEventually(store, atLeast: 5)
            // Start after the second event: the first two are not delivered again.
            var iterator = store.subscribe(after: history[1].logPosition, pollInterval: .seconds(30)).makeAsyncIterator()
            var seen: [Int] = []
            for _ in 0..<3 { if let event = try await iterator.next() { seen.append(number(of: event)) } }
            #expect(seen == [3, 4, 5])
            // With a 30 s poll interval, a prompt delivery shows the NOTIFY wake-up works.
            let started = ContinuousClock.now
            _ = try await store.append(to: "sub-6", expectedVersion: .noStream, events: [sample(n: 6)])
            let live = try await iterator.next()
            #expect(live.map(number) == 6)
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test("without NOTIFY, polling still delivers every event")
    func pollingFallback() async throws {
        try await TestDatabase.with { database in
            let quiet = database.eventStore(notifiesSubscribers: false)
            var iterator = quiet.subscribe(after: .start, pollInterval: .milliseconds(50)).makeAsyncIterator()
            for n in 1...3 { _ = try await quiet.append(to: "poll-\(n)", expectedVersion: .noStream, events: [sample(n: n)]) }
            var seen: [Int] = []
            for _ in 0..<3 { if let event = try await iterator.next() { seen.append(number(of: event)) } }
            #expect(seen == [1, 2, 3])
        }
    }
}
