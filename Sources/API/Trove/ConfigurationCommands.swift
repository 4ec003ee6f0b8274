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
    func execute(
        _ command: ConfigurationGroup.Command, on id: String, caller: AuthContext, requestID: String
    ) async throws -> ConfigurationGroup.State {
        let isCreate = if case .create = command { true } else { false }
        let recorded = try await repository.execute(
            command, on: id, subject: "Configuration group", caller: caller, requestID: requestID, isCreate: isCreate,
            visible: { $0.exists && (caller.isAdmin || $0.created?.projectId == caller.projectID) })
        try await projection.awaitApplied(recorded.last?.logPosition, logger: logger)
        return try await state(of: id)
    }
}
