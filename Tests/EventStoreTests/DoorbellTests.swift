import Foundation
import Testing

@testable import EventStore

/// The doorbell the relay and projections wait on: a cancelled wait always ends, whenever the cancellation comes.
@Suite("Doorbell")
struct DoorbellTests {
    @Test("a wait begun in an already-cancelled task ends at once, not never")
    func cancelledBeforeWaiting() async {
        let doorbell = Doorbell()
        let waiter = Task {
            while !Task.isCancelled { await Task.yield() }
            return await doorbell.wait(upTo: .seconds(3600))
        }
        waiter.cancel()
        #expect(await waiter.value == false)
    }

    @Test("cancellations at every moment of a wait end it; a ring wakes it with true")
    func cancelledWhileWaiting() async {
        let doorbell = Doorbell()
        for _ in 0..<200 {
            let waiter = Task { await doorbell.wait(upTo: .seconds(3600)) }
            await Task.yield()
            waiter.cancel()
            _ = await waiter.value
        }
        let rung = Task { await doorbell.wait(upTo: .seconds(3600)) }
        try? await Task.sleep(for: .milliseconds(50))
        doorbell.ring()
        #expect(await rung.value == true)
    }
}
