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

    /// Waits for every queued saga (tests, shutdown).
    func cancelAll() {
        for worker in workers.values { worker.cancel() }
    }

    private func drain(_ instanceID: String) async {
        while let next = takeNext(instanceID) {
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
