import Foundation
import Synchronization

/// Waits that end at the next matching wake-up or after a limit, whichever comes first: long polls waiting for
/// any read-model change, sagas waiting for appends to particular streams.
public final class WakeUps: Sendable {
    private struct Waiter {
        /// What wakes it (nil: anything).
        var keys: Set<String>?
        var continuation: CheckedContinuation<Void, Never>
    }
    private struct State {
        var waiters: [UUID: Waiter] = [:]
        /// Waits whose time ran out before they registered (the timer can win that race).
        var expired: Set<UUID> = []
    }
    private let state = Mutex(State())

    public init() {}

    /// Wakes the waits for `key` and those for anything; `nil` wakes every wait.
    public func wake(_ key: String?) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let matching = state.waiters.filter { waiter in key == nil || waiter.value.keys?.contains(key!) ?? true }
            for id in matching.keys { state.waiters.removeValue(forKey: id) }
            return matching.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns after the next wake-up of one of `keys` (nil: any), after `limit` at the latest, and at once when
    /// the waiting task is cancelled.
    public func wait(for keys: Set<String>?, limit: Duration) async {
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Ends at the limit, when woken first (cancelled below), or when the waiting task is cancelled.
                try? await Task.sleep(for: limit)
                self.release(id)
            }
            await withCheckedContinuation { continuation in
                let alreadyExpired = state.withLock { state -> Bool in
                    if state.expired.remove(id) != nil { return true }
                    state.waiters[id] = Waiter(keys: keys, continuation: continuation)
                    return false
                }
                if alreadyExpired { continuation.resume() }
            }
            group.cancelAll()
            await group.waitForAll()
            // Woken first, the timer found no waiter and marked the wait expired: nothing is left of it.
            state.withLock { _ = $0.expired.remove(id) }
        }
    }

    private func release(_ id: UUID) {
        let waiter = state.withLock { state -> Waiter? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            state.expired.insert(id)
            return nil
        }
        waiter?.continuation.resume()
    }
}
