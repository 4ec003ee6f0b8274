import Foundation
import Testing

@testable import EventStore

/// The waits of sagas, the failover monitor and long polls: a cancelled wait ends, whenever the cancellation
/// comes (a control plane stopping waits for them), and a wake-up ends the waits for its key only.
@Suite("Wake-ups", .timeLimit(.minutes(1)))
struct WakeUpsTests {
    @Test("cancellations at every moment of a wait end it, an hour's limit notwithstanding")
    func cancelledWaitsEnd() async {
        let wakeUps = WakeUps()
        for _ in 0..<200 {
            let waiter = Task { await wakeUps.wait(for: ["instance-1"], limit: .seconds(3600)) }
            await Task.yield()
            waiter.cancel()
            await waiter.value
        }
        let cancelledFirst = Task {
            while !Task.isCancelled { await Task.yield() }
            await wakeUps.wait(for: nil, limit: .seconds(3600))
        }
        cancelledFirst.cancel()
        await cancelledFirst.value
    }

    @Test("a wake-up ends the waits for its key and those for anything")
    func wakeUpsMatch() async throws {
        let wakeUps = WakeUps()
        let mine = Task { await wakeUps.wait(for: ["instance-1"], limit: .seconds(3600)) }
        let any = Task { await wakeUps.wait(for: nil, limit: .seconds(3600)) }
        let other = Task { await wakeUps.wait(for: ["instance-2"], limit: .seconds(3600)) }
        try await Task.sleep(for: .milliseconds(100))
        wakeUps.wake("instance-1")
        await mine.value
        await any.value
        other.cancel()
        await other.value
    }
}
