import Bus
import EventStore
import Foundation
import GuestProtocol
import Lifecycle
import Logging
import PostgresNIO

/// Turns guest reports into events: the first heartbeat of a building instance is `GuestRegistered`; later
/// heartbeats become `GuestBecameHealthy` / `GuestBecameUnhealthy` only when the health changes (and where the
/// chart listens to health); a guest not heard from for `heartbeatExpiry` is marked unhealthy
/// (`heartbeat_expired`, shown as operating_status ERROR) until it reports again.
public struct Conductor: Sendable {
    let client: PostgresClient
    let instances: AggregateRepository<Instance>
    let amqpURL: String
    let heartbeatExpiry: Duration
    let logger: Logger

    static let metadata = EventMetadata(service: "conductor")

    public init(
        client: PostgresClient, store: PostgresEventStore, chart: Statechart, amqpURL: String,
        heartbeatExpiry: Duration, logger: Logger
    ) {
        self.client = client
        self.instances = AggregateRepository(category: "instance", store: store, chart: chart)
        self.amqpURL = amqpURL
        self.heartbeatExpiry = heartbeatExpiry
        self.logger = logger
    }

    /// Consumes heartbeats and watches for silent guests until cancelled.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let consumer = BusConsumer(
                    url: amqpURL, queue: Topology.conductorQueueSpec, prefetch: 100, maxAttempts: 3,
                    role: .controlPlane(sagaTriggers: Saga.Kind.triggerRoutingKeys))
                let controlPlaneUser = try AMQPEndpoint(url: amqpURL).user
                try await consumer.run { delivery in
                    let report = try JSONDecoder.rpc.decode(GuestReport.self, from: delivery.body)
                    // The instance a report is about is the sender's, as the broker validated it: never the body's alone.
                    guard Topology.speaksFor(instanceID: report.instanceID, userID: delivery.userID, controlPlaneUser: controlPlaneUser) else {
                        logger.warning(
                            "a report about an instance from another broker user was dropped",
                            metadata: ["instance": "\(report.instanceID)", "sender": "\(delivery.userID ?? "none")"])
                        return
                    }
                    try await handle(report)
                }
            }
            group.addTask { try await watchForSilentGuests() }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// One heartbeat: remember when the guest was heard from, then record what changed.
    func handle(_ heartbeat: GuestReport) async throws {
        let (state, _) = try await instances.load(heartbeat.instanceID)
        guard state.version > 0, state.phase != .deleted else { return }  // unknown or gone: a late heartbeat
        let figures = try heartbeat.clusterFigures.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let replication = try heartbeat.replication.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await client.query(
            """
            INSERT INTO guest_heartbeats (instance_id, last_seen, status, role, volume_used_bytes, server_version, cluster_figures, replication)
            VALUES (\(heartbeat.instanceID), now(), \(heartbeat.condition.rawValue), \(heartbeat.role.rawValue), \(heartbeat.volumeUsedBytes),
                    \(heartbeat.serverVersion), \(figures)::jsonb, \(replication)::jsonb)
            ON CONFLICT (instance_id) DO UPDATE SET last_seen = now(), status = excluded.status, role = excluded.role,
                volume_used_bytes = excluded.volume_used_bytes, server_version = excluded.server_version,
                cluster_figures = excluded.cluster_figures,
                -- A failover needs what the primary knew while it ran (its position, its synchronous standbys):
                -- the report of a stopped server does not replace it.
                replication = CASE WHEN (excluded.replication->>'running')::boolean IS FALSE AND guest_heartbeats.replication IS NOT NULL
                                   THEN guest_heartbeats.replication ELSE excluded.replication END
            """, logger: logger)
        do { try await recordSamples(heartbeat) } catch {
            logger.warning("could not keep the report's figures", metadata: ["instance": "\(heartbeat.instanceID)", "error": "\(error)"])
        }
        if !state.guestRegistered {
            guard state.phase == .registering else { return }
            try await instances.execute(.recordGuestRegistered, on: heartbeat.instanceID, metadata: Self.metadata)
            logger.info("guest registered", metadata: ["instance": "\(heartbeat.instanceID)"])
            return
        }
        guard let health = heartbeat.condition.health else { return }
        do {
            let recorded = try await instances.execute(.reportGuestHealth(health), on: heartbeat.instanceID, metadata: Self.metadata)
            if !recorded.isEmpty {
                logger.info("guest health changed", metadata: ["instance": "\(heartbeat.instanceID)", "status": "\(heartbeat.condition.rawValue)"])
            }
        } catch is Rejection {
            return  // deleted meanwhile
        }
    }

    /// Marks guests unhealthy whose heartbeats stopped; runs every second.
    func watchForSilentGuests() async throws {
        let seconds = heartbeatExpiry.seconds
        var lastPrune = ContinuousClock.now
        while !Task.isCancelled {
            do {
                if ContinuousClock.now - lastPrune > .seconds(60) {
                    try await pruneSamples()
                    lastPrune = ContinuousClock.now
                }
                let rows = try await client.query(
                    """
                    SELECT h.instance_id FROM guest_heartbeats h JOIN instances i ON i.id = h.instance_id
                    WHERE NOT i.deleted AND i.status = 'ACTIVE' AND i.operating_status <> 'ERROR'
                      AND h.last_seen < now() - make_interval(secs => \(seconds))
                    """, logger: logger)
                for try await instanceID in rows.decode(String.self) {
                    logger.warning("guest heartbeat expired", metadata: ["instance": "\(instanceID)"])
                    try? await instances.execute(.reportGuestHealth(.heartbeatExpired), on: instanceID, metadata: Self.metadata)
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("heartbeat watch failed; retrying", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}
