import APICore
import EventStore
import Logging

extension EventMetadata {
    /// The metadata of what a user's request records: who asked, and the request id (which also correlates
    /// what the task manager records for it).
    init(caller: AuthContext, requestID: String) {
        self.init(
            actor: .init(userID: caller.userID, projectID: caller.projectID, roles: caller.roles),
            requestID: requestID, correlationID: requestID)
    }
}

extension ProjectionRunner {
    /// Applies pending events until the read model includes `position` (at most 10 s): a writer then reads
    /// its own write.
    func awaitApplied(_ position: LogPosition?, logger: Logger) async throws {
        guard let position else { return }
        let deadline = ContinuousClock.now + .seconds(10)
        while try await checkpoint() < position {
            try await catchUp()
            if try await checkpoint() >= position { return }
            guard ContinuousClock.now < deadline else {
                logger.warning("read model lags behind a write", metadata: ["position": "\(position)"])
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
