import APICore
import EventStore
import Foundation
import Lifecycle

extension InstanceCommands {
    /// Waits (up to `timeout`) for the event the task manager records for request `requestID` after stream
    /// version `version` that `outcome` recognizes; nil when none came in time (the work goes on regardless).
    ///
    /// A delete ends the wait at once, whoever asked for it: no outcome comes for an instance that is going away.
    /// It throws 422 while the instance is being deleted, 404 once it is gone.
    public func awaitOutcome<T: Sendable>(
        of id: String, after version: Int, requestID: String, timeout: Duration = .seconds(60),
        _ outcome: (Instance.Event) throws -> T?
    ) async throws -> T? {
        let deadline = ContinuousClock.now + timeout
        var next = version + 1
        while ContinuousClock.now < deadline {
            var deleting = false
            for event in try await store.readStream("instance-\(id)", fromVersion: next) {
                next = event.streamVersion + 1
                guard let decoded = try? Instance.Event.decode(eventType: event.type, data: event.data) else { continue }
                if case .instanceDeleted = decoded { throw TroveError.notFound("Instance \(id) could not be found: it was deleted.") }
                if case .deleteRequested = decoded { deleting = true }
                guard !deleting, event.decodedMetadata?.requestID == requestID, let result = try outcome(decoded) else { continue }
                try await awaitReadModel(reaching: event.logPosition)
                return result
            }
            if deleting { throw Self.beingDeleted(id) }
            try await Task.sleep(for: .milliseconds(25))
        }
        return nil
    }

    /// 422: instance `id` is being deleted and takes no more changes.
    static func beingDeleted(_ id: String) -> TroveError {
        TroveError.unprocessable("Instance \(id) is being deleted; it takes no more changes.")
    }
}
