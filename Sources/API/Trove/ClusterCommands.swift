import APICore
import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO
import ReadModels

/// The command side for clusters: fold the stream, let `Cluster.decide` judge the command, append with the
/// expected version (a create or grow inside the quota's transaction: members count as instances), then wait
/// until the read model shows it.
public struct ClusterCommands: Sendable {
    let store: PostgresEventStore
    let client: PostgresClient
    let chart: Statechart
    let projection: ProjectionRunner
    let repository: AggregateRepository<Cluster>
    let logger: Logger

    public init(store: PostgresEventStore, client: PostgresClient, chart: Statechart, logger: Logger) {
        self.store = store
        self.client = client
        self.chart = chart
        self.projection = ProjectionRunner(store: store, projection: ClusterProjection(chart: chart))
        self.repository = AggregateRepository(category: "cluster", store: store, chart: chart)
        self.logger = logger
    }

    /// The folded state of a cluster `caller` may see (nil: absent, deleted or another project's).
    public func state(of id: String, caller: AuthContext) async throws -> Cluster.State? {
        let state = try await repository.load(id).state
        guard state.version > 0, !chart.isFinal(state.leaf), caller.isAdmin || state.projectId == caller.projectID else { return nil }
        return state
    }

    /// Runs `command` on cluster `id` through the one command path; one retry when another writer got there
    /// first, then 409. A create or grow checks the quota in the events' transaction (members count as instances).
    public func execute(_ command: Cluster.Command, on id: String, caller: AuthContext, requestID: String) async throws {
        let added = Self.addedMembers(command)
        let logger = self.logger
        let isCreate = if case .create = command { true } else { false }
        let chart = self.chart
        let recorded = try await repository.execute(
            command, on: id, subject: "Cluster", caller: caller, requestID: requestID, isCreate: isCreate,
            visible: { $0.version > 0 && !chart.isFinal($0.leaf) && (caller.isAdmin || $0.projectId == caller.projectID) },
            alongside: { state, _ in
                guard !added.isEmpty else { return nil }
                let project = state.version == 0 ? caller.projectID : state.projectId
                return { connection in
                    let over = try await QuotaBook.exceeded(
                        by: ["instances": added.count, "volumes": added.map(\.volumeSize).reduce(0, +)],
                        project: project, on: connection, logger: logger)
                    guard over.isEmpty else {
                        throw TroveError.overLimit(
                            "Quota exceeded for resources: \(over) (each cluster member is an instance); "
                                + "ask an administrator to raise them (GET /limits shows them).")
                    }
                }
            })
        try await projection.awaitApplied(recorded.last?.logPosition, logger: logger)
    }

    /// The members a command adds (they count against the instance and volume quotas).
    static func addedMembers(_ command: Cluster.Command) -> [Cluster.Member] {
        switch command {
        case .create(let request): request.members
        case .grow(let members): members
        default: []
        }
    }
}
