import APICore
import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO
import ReadModels

/// The command side of configuration groups: fold `configuration-<id>`, decide, append with the expected
/// version, wait until `configuration_groups` shows it.
struct ConfigurationCommands: Sendable {
    let projection: ProjectionRunner
    let repository: AggregateRepository<ConfigurationGroup>
    let logger: Logger

    init(store: PostgresEventStore, logger: Logger) {
        self.projection = ProjectionRunner(store: store, projection: ConfigurationProjection())
        self.repository = AggregateRepository(category: "configuration", store: store, rules: NoRules())
        self.logger = logger
    }

    /// The folded group (empty when it never existed).
    func state(of id: String) async throws -> ConfigurationGroup.State {
        try await repository.load(id).state
    }

    /// Runs `command` on group `id` through the one command path (one retry after a concurrent write, then 409).
    @discardableResult
    func execute(_ command: ConfigurationGroup.Command, on id: String, caller: AuthContext, requestID: String) async throws -> ConfigurationGroup.State {
        let recorded: [RecordedEvent]
        do {
            recorded = try await repository.execute(
                command, on: id, metadata: EventMetadata(caller: caller, requestID: requestID), attempts: 2,
                check: { state in
                    if case .create = command { return }
                    guard state.exists, caller.isAdmin || state.created?.projectId == caller.projectID else {
                        throw TroveError.notFound("Configuration group \(id) could not be found.")
                    }
                })
        } catch let rejection as Rejection {
            throw TroveError.from(rejection)
        } catch is WrongExpectedVersion {
            throw TroveError.conflict("Configuration group \(id) was changed by another request at the same time; retry.")
        }
        try await projection.awaitApplied(recorded.last?.logPosition, logger: logger)
        return try await state(of: id)
    }
}
