import CellarTestSupport
import EventStore
import Foundation
import Testing

/// A change to an instance that is being deleted, with real guests: answered at once, and its saga ends cleanly.
@Suite("changes racing a delete", .serialized)
struct DeleteRaceTests {
    @Test("a database delete sent together with the instance's delete is answered at once; every saga of the instance ends, none failed")
    func changeTogetherWithDelete() async throws {
        try await ControlPlane.with { plane in
            let (id, _) = try await plane.createActiveInstance()
            // The change is recorded first, the delete right behind it, before the change's saga can finish: the
            // order that used to hold the change's answer for 60 s. 20 s is far above a normal answer and far
            // below that hang.
            async let change = plane.member.trove("DELETE", "/instances/\(id)/databases/orders", timeout: 20)
            while try await !plane.events("instance-\(id)").contains(where: { $0.type == "GuestChangeRequested" }) {
                try await Task.sleep(for: .milliseconds(5))
            }
            let deleted = try await plane.member.trove("DELETE", "/instances/\(id)", timeout: 20)
            let changed = try await change
            #expect(deleted.status == 202, "\(deleted.json)")
            #expect([202, 404, 422].contains(changed.status), "\(changed.status) \(changed.json)")
            try await plane.waitUntilGone(id)

            let ended: Set<String> = ["SagaCompleted", "SagaCancelled"]
            var endings: [String] = []
            let deadline = ContinuousClock.now + .seconds(30)
            repeat {
                endings = try await plane.sagas(of: id).map { $0.last?.type ?? "" }
                if endings.allSatisfy({ ended.contains($0) }) { break }
                try await Task.sleep(for: .milliseconds(250))
            } while ContinuousClock.now < deadline
            let unfinished = endings.filter { !ended.contains($0) }
            #expect(unfinished.isEmpty, "saga endings: \(endings)")
        }
    }
}
