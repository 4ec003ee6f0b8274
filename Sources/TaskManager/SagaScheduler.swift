import Foundation
import Logging

/// Runs sagas one instance at a time: the sagas of one instance run in the order they were submitted (a delete
/// waits until the build it cancels has stopped), those of different instances run concurrently. A saga already
/// running or queued is not submitted twice.
actor SagaScheduler {
    private var queued: [String: [(sagaID: String, work: @Sendable () async -> Void)]] = [:]
    private var known: Set<String> = []
    private var workers: [String: Task<Void, Never>] = [:]

    /// Queues `work` for saga `sagaID` of `instanceID` unless that saga is already known here.
    func submit(sagaID: String, instanceID: String, work: @escaping @Sendable () async -> Void) {
        guard known.insert(sagaID).inserted else { return }
        queued[instanceID, default: []].append((sagaID, work))
        guard workers[instanceID] == nil else { return }
        workers[instanceID] = Task { await self.drain(instanceID) }
    }

    /// Cancels every running and queued saga and waits (at most `limit`) until their workers have stopped, so
    /// none outlives the task manager (a saga stopped here resumes from the log at the next start).
    func stopAll(within limit: Duration = .seconds(5)) async {
        queued.removeAll()
        let running = Array(workers.values)
        for worker in running { worker.cancel() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for worker in running { await worker.value } }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    private func drain(_ instanceID: String) async {
        while !Task.isCancelled, let next = takeNext(instanceID) {
            await next.work()
            known.remove(next.sagaID)
        }
    }

    private func takeNext(_ instanceID: String) -> (sagaID: String, work: @Sendable () async -> Void)? {
        guard var list = queued[instanceID], !list.isEmpty else {
            queued[instanceID] = nil
            workers[instanceID] = nil
            return nil
        }
        let next = list.removeFirst()
        queued[instanceID] = list
        return next
    }
}
