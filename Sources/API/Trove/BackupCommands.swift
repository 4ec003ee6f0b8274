import APICore
import EventStore
import Foundation
import Lifecycle
import Logging
import ReadModels

/// The command side of backups: fold `backup-<id>`, decide, append with the expected version, wait until the
/// `backups` read model shows it.
struct BackupCommands: Sendable {
    let projection: ProjectionRunner
    let repository: AggregateRepository<Backup>
    let chart: Statechart
    let logger: Logger

    init(store: PostgresEventStore, chart: Statechart, logger: Logger) {
        self.chart = chart
        self.projection = ProjectionRunner(store: store, projection: BackupProjection(chart: chart))
        self.repository = AggregateRepository(category: "backup", store: store, chart: chart)
        self.logger = logger
    }

    /// The folded backup, when it exists, is not deleted and the caller may see it (its project's, or an admin).
    func visible(_ id: String, caller: AuthContext) async throws -> Backup.State? {
        let state = try await repository.load(id).state
        guard state.version > 0, state.leaf != "deleted", caller.isAdmin || state.projectId == caller.projectID else { return nil }
        return state
    }

    /// Runs `command` on backup `id` through the one command path (one retry after a concurrent write, then 409);
    /// the backup as this command left it (the task manager may have moved it on already).
    @discardableResult
    func execute(_ command: Backup.Command, on id: String, caller: AuthContext, requestID: String) async throws -> Backup.State {
        let isCreate = if case .create = command { true } else { false }
        let logger = self.logger
        let recorded = try await repository.execute(
            command, on: id, subject: "Backup", caller: caller, requestID: requestID, isCreate: isCreate,
            visible: { $0.version > 0 && (caller.isAdmin || $0.projectId == caller.projectID) },
            alongside: { _, _ in
                guard case .create(let request) = command else { return nil }
                // The quota is checked in the creating transaction, under the project's lock (as instances are).
                return { connection in
                    let over = try await QuotaBook.exceeded(by: ["backups": 1], project: request.projectId, on: connection, logger: logger)
                    guard over.isEmpty else {
                        throw TroveError.overLimit("Quota exceeded for resources: \(over); delete old backups or ask an administrator to raise it.")
                    }
                }
            })
        try await projection.awaitApplied(recorded.last?.logPosition, logger: logger)
        let events = try await repository.load(id).events
        let upToThisCommand = isCreate ? events.prefix(recorded.count) : events[...]
        return upToThisCommand.reduce(Backup.State(chart: chart)) { Backup.evolve($0, $1, chart: chart) }
    }
}
