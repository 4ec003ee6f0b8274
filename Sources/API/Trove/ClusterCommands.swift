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

    /// Runs `command` on cluster `id`; one retry when another writer got there first, then 409.
    public func execute(_ command: Cluster.Command, on id: String, caller: AuthContext, requestID: String) async throws {
        for attempt in 1...2 {
            let state = try await repository.load(id).state
            if case .create = command {} else {
                guard state.version > 0, !chart.isFinal(state.leaf), caller.isAdmin || state.projectId == caller.projectID else {
                    throw TroveError.notFound("Cluster \(id) could not be found.")
                }
            }
            let events: [Cluster.Event]
            do { events = try Cluster.decide(command, state: state, chart: chart, at: Date()) } catch { throw TroveError.from(error) }
            guard !events.isEmpty else { return }
            let metadata = try JSONEncoder().encode(EventMetadata(caller: caller, requestID: requestID))
            let newEvents = try events.map { NewEvent(type: $0.eventType, data: try $0.encodedData(), metadata: metadata) }
            let stream = "cluster-\(id)"
            let expected: ExpectedVersion = state.version == 0 ? .noStream : .exact(state.version)
            let added = Self.addedMembers(command)
            do {
                let result: AppendResult
                if added.isEmpty {
                    result = try await store.append(to: stream, expectedVersion: expected, events: newEvents)
                } else {
                    let project = state.version == 0 ? caller.projectID : state.projectId
                    let (store, logger) = (self.store, self.logger)
                    result = try await client.withGuardedTransaction(logger: logger) { connection in
                        let over = try await QuotaBook.exceeded(
                            by: ["instances": added.count, "volumes": added.map(\.volumeSize).reduce(0, +)],
                            project: project, on: connection, logger: logger)
                        guard over.isEmpty else {
                            throw TroveError.overLimit("Quota exceeded for resources: \(over) (each cluster member is an instance); "
                                + "ask an administrator to raise them (GET /limits shows them).")
                        }
                        return try await store.append(to: stream, expectedVersion: expected, events: newEvents, on: connection)
                    }
                }
                try await projection.awaitApplied(result.events.last?.logPosition, logger: logger)
                return
            } catch let conflict as WrongExpectedVersion where attempt == 1 {
                logger.debug("retrying cluster command after a concurrent write", metadata: ["conflict": "\(conflict)"])
            }
        }
        throw TroveError.conflict("Cluster \(id) was changed by another request at the same time; retry.")
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
