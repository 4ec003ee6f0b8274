import Foundation
import Synchronization

/// Wakes long-polling requests when read models change (fed by the projection service of the same process).
public final class ReadModelChanges: Sendable {
    private struct State {
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
        /// Waits whose time ran out before they registered (the timer can win that race).
        var expired: Set<UUID> = []
    }
    private let state = Mutex(State())

    public init() {}

    /// Called after a projection applied a batch.
    public func changed() {
        let woken = state.withLock { state in
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns after the next change, or after `limit` at the latest.
    public func nextChange(limit: Duration) async {
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await Task.sleep(for: limit)
                    self.release(id)
                } catch {}  // woken by a change first
            }
            await withCheckedContinuation { continuation in
                let alreadyExpired = state.withLock { state -> Bool in
                    if state.expired.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if alreadyExpired { continuation.resume() }
            }
            group.cancelAll()
        }
    }

    private func release(_ id: UUID) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            state.expired.insert(id)
            return nil
        }
        waiter?.resume()
    }
}
