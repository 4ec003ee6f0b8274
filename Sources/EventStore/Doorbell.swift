import Synchronization

/// A wake-up signal between a notification listener and a polling loop.
///
/// `ring` wakes the current waiter, or the next one if nobody waits; `wait(upTo:)` returns true on a ring and
/// false when the time is up. Spurious wake-ups are harmless: the waiter just polls again.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Bool, Never>?
        var waitID = 0
    }
    private let state = Mutex(State())

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: true)
    }

    func wait(upTo timeout: Duration) async -> Bool {
        let id = state.withLock { state -> Int in
            state.waitID += 1
            return state.waitID
        }
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
            let rung = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                    // Cancelled before the waiter is in place: `onCancel` found nobody to wake, so answer now
                    // (checked under the lock `expire` takes, so no cancellation falls between the two).
                    let answer = state.withLock { state -> Bool? in
                        if state.rung {
                            state.rung = false
                            return true
                        }
                        if Task.isCancelled { return false }
                        state.waiter = continuation
                        return nil
                    }
                    if let answer { continuation.resume(returning: answer) }
                }
            } onCancel: {
                self.expire(id)
            }
            group.cancelAll()
            return rung
        }
    }

    /// Ends wait number `id` with false, if it is still waiting.
    private func expire(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard state.waitID == id, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: false)
    }
}
