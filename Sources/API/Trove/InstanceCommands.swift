import APICore
import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO
import ReadModels
import Secrets

/// The command side for instances: fold the stream, let `Instance.decide` judge the command, append the events
/// with the expected version, then wait until the read model shows them (so the caller reads its own write).
public struct InstanceCommands: Sendable {
    let store: PostgresEventStore
    let client: PostgresClient
    let chart: Statechart
    let secrets: SecretBox
    let projection: ProjectionRunner
    let repository: AggregateRepository<Instance>
    /// Told when a write reached the read model, so this process's cached rows are not older than it.
    let caches: CacheInvalidation?
    let logger: Logger

    public init(
        store: PostgresEventStore, client: PostgresClient, chart: Statechart, secrets: SecretBox,
        caches: CacheInvalidation? = nil, logger: Logger
    ) {
        self.store = store
        self.client = client
        self.chart = chart
        self.secrets = secrets
        self.projection = ProjectionRunner(store: store, projection: InstanceProjection(chart: chart))
        self.repository = AggregateRepository(category: "instance", store: store, chart: chart)
        self.caches = caches
        self.logger = logger
    }

    /// The folded state of an instance that `caller` may see (nil: absent, deleted or another project's).
    public func state(of id: String, caller: AuthContext) async throws -> Instance.State? {
        let state = try await load(id).state
        guard state.version > 0, !chart.isFinal(state.leaf), caller.isAdmin || state.projectId == caller.projectID else { return nil }
        return state
    }

    /// Runs `command` on instance `id` through the one command path; one retry when another writer got there
    /// first, then 409. A create's quota check and the sealed passwords commit with the events, or nothing does.
    @discardableResult
    public func execute(
        _ command: Instance.Command, on id: String, caller: AuthContext, requestID: String,
        secrets extra: [(name: SecretName, password: String)] = []
    ) async throws -> [RecordedEvent] {
        let stream = "instance-\(id)"
        let sealed =
            try sealedSecrets(of: command, stream: stream)
            + extra.map { ($0.name.key, try secrets.seal($0.password, context: "\(stream)/\($0.name.key)")) }
        let logger = self.logger
        let isCreate = if case .create = command { true } else { false }
        let recorded = try await repository.execute(
            command, on: id, subject: "Instance", caller: caller, requestID: requestID, isCreate: isCreate,
            visible: { $0.version > 0 && (caller.isAdmin || $0.projectId == caller.projectID) },
            alongside: { _, _ in
                let quota: Instance.CreateRequest? = if case .create(let request) = command { request } else { nil }
                guard quota != nil || !sealed.isEmpty else { return nil }
                return { connection in
                    if let request = quota {
                        let over = try await QuotaBook.exceeded(
                            by: ["instances": 1, "volumes": request.volumeSize], project: request.projectId, on: connection, logger: logger)
                        guard over.isEmpty else {
                            throw TroveError.overLimit(
                                "Quota exceeded for resources: \(over); ask an administrator to raise them (GET /limits shows them).")
                        }
                    }
                    for (name, value) in sealed {
                        try await connection.guardedQuery(
                            """
                            INSERT INTO pending_secrets (stream_id, name, sealed) VALUES (\(stream), \(name), \(value))
                            ON CONFLICT (stream_id, name) DO UPDATE SET sealed = excluded.sealed, created_at = now()
                            """, logger: logger)
                    }
                }
            })
        if recorded.contains(where: { $0.type == Instance.Event.instanceDeleted.eventType }) {
            // Gone for good: its sealed passwords will never be needed.
            try await client.query("DELETE FROM pending_secrets WHERE stream_id = \(stream)", logger: logger)
        }
        try await awaitReadModel(reaching: recorded.last?.logPosition)
        return recorded
    }

    /// Applies pending events to the read model until it includes `position` (at most a few seconds).
    public func awaitReadModel(reaching position: LogPosition?) async throws {
        try await projection.awaitApplied(position, logger: logger)
        caches?.invalidate("instances")
    }

    /// The passwords a command carries, sealed, by their names' keys.
    private func sealedSecrets(of command: Instance.Command, stream: String) throws -> [(name: String, sealed: String)] {
        guard case .create(let request) = command else { return [] }
        return try request.users.map { user in
            let key = SecretName.user(user.name, host: user.host).key
            return (key, try secrets.seal(user.password.revealed, context: "\(stream)/\(key)"))
        }
    }

    private func load(_ id: String) async throws -> (state: Instance.State, streamVersion: Int) {
        let state = try await repository.load(id).state
        return (state, state.version)
    }
}
