import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// Resources as they were at a past point of the log (`?as_of=`): folded from their streams up to that global
/// position by the aggregates' own `evolve`, the code the projections run, so an answer equals the read model
/// as it stood right after that event.
public struct TimeTravel: Sendable {
    let store: PostgresEventStore
    let client: PostgresClient
    let charts: StatechartLibrary
    let logger: Logger

    public init(store: PostgresEventStore, client: PostgresClient, charts: StatechartLibrary, logger: Logger) {
        self.store = store
        self.client = client
        self.charts = charts
        self.logger = logger
    }

    /// A point of the log: a global position, or a time (the last event recorded at or before it).
    public enum Point: Sendable, Equatable {
        case position(Int64)
        case time(Date)

        /// `as_of` text: a non-negative integer or an RFC 3339 time; nil when it is neither.
        public init?(_ text: String) {
            if let position = Int64(text), position >= 0 {
                self = .position(position)
            } else if let time = (try? Date(text, strategy: .iso8601))
                ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            {
                self = .time(time)
            } else {
                return nil
            }
        }
    }

    /// A past instance and whether it was deleted by then (nil: it did not exist yet).
    public struct Past<Record: Sendable>: Sendable {
        public var record: Record
        /// The last folded event's global position.
        public var position: Int64
        public var deleted: Bool
    }

    /// A past cluster and its members then, by instance id.
    public struct PastCluster: Sendable {
        public var cluster: ClusterRecord
        public var members: [String: InstanceRecord]
    }

    /// The global position `point` stands for.
    public func position(of point: Point) async throws -> Int64 {
        switch point {
        case .position(let position):
            return position
        case .time(let time):
            let rows = try await client.query(
                "SELECT coalesce(max(global_position), 0) FROM events WHERE recorded_at <= \(time)", logger: logger)
            for try await position in rows.decode(Int64.self) { return position }
            return 0
        }
    }

    /// Instance `id` folded up to `position`.
    public func instance(_ id: String, at position: Int64) async throws -> Past<InstanceRecord>? {
        let events = try await store.readStream("instance-\(id)").filter { $0.globalPosition <= position }
        guard let first = events.first, let last = events.last else { return nil }
        let chart = charts.instance
        let state = Instance.replay(events.compactMap { try? Instance.Event.decode(eventType: $0.type, data: $0.data) }, chart: chart)
        let deleted = chart.isFinal(state.leaf)
        let record = InstanceRecord(
            state, id: id, version: last.streamVersion, deleted: deleted,
            created: first.recordedAt, updated: last.recordedAt)
        return Past(record: record, position: last.globalPosition, deleted: deleted)
    }

    /// The replicas `sourceID` had at `position`, oldest first, as the live read model lists them.
    public func replicas(of sourceID: String, at position: Int64) async throws -> [String] {
        // Candidates: instances whose events name the source (created from it or re-pointed to it).
        let rows = try await client.query(
            """
            SELECT DISTINCT substr(stream_id, 10) FROM events
            WHERE stream_id LIKE 'instance-%' AND stream_id <> \("instance-\(sourceID)") AND global_position <= \(position)
              AND data::text LIKE \("%\(sourceID)%")
            """, logger: logger)
        var replicas: [InstanceRecord] = []
        for try await candidate in rows.decode(String.self) {
            if let past = try await instance(candidate, at: position), !past.deleted, past.record.replicaOf == sourceID {
                replicas.append(past.record)
            }
        }
        return replicas.sorted { ($0.created, $0.id) < ($1.created, $1.id) }.map(\.id)
    }

    /// Cluster `id` folded up to `position`, with its members (by instance id) folded up to the same position.
    public func cluster(_ id: String, at position: Int64) async throws -> Past<PastCluster>? {
        let events = try await store.readStream("cluster-\(id)").filter { $0.globalPosition <= position }
        guard let first = events.first, let last = events.last else { return nil }
        let chart = charts.cluster
        var state = Cluster.replay(events.compactMap { try? Cluster.Event.decode(eventType: $0.type, data: $0.data) }, chart: chart)
        state.version = last.streamVersion
        var members: [String: InstanceRecord] = [:]
        for member in state.members {
            if let past = try await instance(member.id, at: position), !past.deleted { members[member.id] = past.record }
        }
        let record = ClusterRecord(state: state, created: state.createdAt ?? first.recordedAt, updated: last.recordedAt)
        return Past(record: PastCluster(cluster: record, members: members), position: last.globalPosition, deleted: chart.isFinal(state.leaf))
    }
}
