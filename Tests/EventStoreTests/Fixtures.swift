import EventStore
import Foundation
import Testing

/// A small event with a JSON payload `{"n": n}`.
func sample(_ type: String = "SomethingHappened", n: Int = 0) -> NewEvent {
    NewEvent(type: type, data: Data(#"{"n": \#(n)}"#.utf8), metadata: Data(#"{"service": "tests", "schema_version": 1}"#.utf8))
}

/// The `n` of a `sample` event.
func number(of event: RecordedEvent) -> Int {
    ((try? JSONSerialization.jsonObject(with: event.data)) as? [String: Any])?["n"] as? Int ?? -1
}

/// The whole log once at least `count` events are readable.
///
/// The read fence is server-wide: a transaction still open in any database (tests run in parallel on one
/// server) delays what `readAll` returns, never what it eventually returns. So tests wait instead of assuming.
func readAllEventually(_ store: PostgresEventStore, atLeast count: Int, timeout: Duration = .seconds(30)) async throws -> [RecordedEvent] {
    let deadline = ContinuousClock.now + timeout
    while true {
        let events = try await store.readAll(after: .start, limit: 100_000)
        if events.count >= count || ContinuousClock.now > deadline { return events }
        try await Task.sleep(for: .milliseconds(20))
    }
}
