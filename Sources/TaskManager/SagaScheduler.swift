import EventStore
import Foundation
import Logging

/// Runs sagas one subject at a time: the sagas of one instance (or one cluster) run in the order they were
/// submitted (a delete waits until the build it cancels has stopped), those of different subjects run
/// concurrently (a cluster's saga and its members' sagas too: members are children, not peers). A saga already
/// running or queued is not submitted twice.
actor SagaScheduler {
    private var queued: [String: [(sagaID: String, work: @Sendable () async -> Void)]] = [:]
    private var known: Set<String> = []
    private var workers: [String: Task<Void, Never>] = [:]
    /// Called when a subject has no saga left here (its lease is given up).
    private let whenIdle: @Sendable (_ subject: String) async -> Void

    init(whenIdle: @escaping @Sendable (_ subject: String) async -> Void = { _ in }) {
        self.whenIdle = whenIdle
    }

    /// Queues `work` for saga `sagaID` of `subject` (its stream) unless that saga is already known here.
    func submit(sagaID: String, subject: String, work: @escaping @Sendable () async -> Void) {
        guard known.insert(sagaID).inserted else { return }
        queued[subject, default: []].append((sagaID, work))
        guard workers[subject] == nil else { return }
        workers[subject] = Task { await self.drain(subject) }
    }

    /// Cancels every running and queued saga and waits (at most `limit`) until their workers have stopped, so
    /// none outlives the task manager (a saga stopped here resumes from the log at the next start).
    func stopAll(within limit: Duration = .seconds(5)) async {
        queued.removeAll()
        let running = Array(workers.values)
        for worker in running { worker.cancel() }
        _ = try? await withDeadline(limit) { for worker in running { await worker.value } }
    }

    private func drain(_ subject: String) async {
        while !Task.isCancelled, let next = takeNext(subject) {
            await next.work()
            known.remove(next.sagaID)
        }
        if !Task.isCancelled { await whenIdle(subject) }
    }

    private func takeNext(_ subject: String) -> (sagaID: String, work: @Sendable () async -> Void)? {
        guard var list = queued[subject], !list.isEmpty else {
            queued[subject] = nil
            workers[subject] = nil
            return nil
        }
        let next = list.removeFirst()
        queued[subject] = list
        return next
    }
}
