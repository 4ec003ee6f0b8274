import EventStore
import Foundation
import Lifecycle

extension InstanceCommands {
    /// Waits (up to `timeout`) for the event the task manager records for request `requestID` after stream
    /// version `version` that `outcome` recognizes; nil when none came in time (the work goes on regardless).
    func awaitOutcome<T: Sendable>(of id: String, after version: Int, requestID: String, timeout: Duration = .seconds(60),
                                   _ outcome: (Instance.Event) throws -> T?) async throws -> T? {
        let deadline = ContinuousClock.now + timeout
        var next = version + 1
        while ContinuousClock.now < deadline {
            for event in try await store.readStream("instance-\(id)", fromVersion: next) {
                next = event.streamVersion + 1
                guard event.decodedMetadata?.requestID == requestID,
                      let decoded = try? Instance.Event.decode(eventType: event.type, data: event.data),
                      let result = try outcome(decoded) else { continue }
                try await awaitReadModel(reaching: event.logPosition)
                return result
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        return nil
    }
}
