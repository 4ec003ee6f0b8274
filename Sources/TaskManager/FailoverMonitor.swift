import Compute
import EventStore
import Foundation
import GuestProtocol
import Lifecycle
import Logging
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Watches the primary of every active-passive cluster and starts a failover when it is lost: its guest reports
/// its server exited and one direct probe (the primary's own check port, asked `/primary`) confirms it; or its
/// heartbeat is late or not healthy and `probeFailures` probes in a row fail, so one slow heartbeat is not a
/// failover. A primary's guest reports its server's exit the moment it happens (a recorded health change on the
/// primary's stream), and the monitor looks again at once. It also asks a fenced member whose guest answers
/// again to rejoin as a replica.
///
/// One task manager leads at a time (a PostgreSQL advisory lock held on one connection); the others wait for the
/// lock. Even two leaders could not promote twice: a failover starts by an append the cluster's chart accepts
/// only once.
struct FailoverMonitor: Sendable {
    /// When a primary counts as lost. Defaults aim at seconds (Patroni's defaults take 30-40 s).
    struct Settings: Sendable {
        /// How often every primary is looked at.
        var interval: Duration = .milliseconds(500)
        /// A heartbeat older than this is missed (members report every second, and at once on a crash).
        var heartbeatGrace: Duration = .seconds(3)
        /// How long a probe waits for the primary's answer.
        var probeTimeout: Duration = .milliseconds(500)
        /// Failed probes in a row, each with a bad heartbeat, before the primary is lost.
        var probeFailures = 2
        /// How long a cluster whose failover failed waits before the next attempt.
        var retryAfterFailure: Duration = .seconds(30)

        /// The defaults, changed by `CELLAR_FAILOVER_INTERVAL_MS`, `CELLAR_FAILOVER_HEARTBEAT_GRACE_MS`,
        /// `CELLAR_FAILOVER_PROBE_TIMEOUT_MS` and `CELLAR_FAILOVER_PROBE_FAILURES`.
        static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Settings {
            var settings = Settings()
            func milliseconds(_ name: String) -> Duration? { environment[name].flatMap(Int.init).map { .milliseconds($0) } }
            settings.interval = milliseconds("CELLAR_FAILOVER_INTERVAL_MS") ?? settings.interval
            settings.heartbeatGrace = milliseconds("CELLAR_FAILOVER_HEARTBEAT_GRACE_MS") ?? settings.heartbeatGrace
            settings.probeTimeout = milliseconds("CELLAR_FAILOVER_PROBE_TIMEOUT_MS") ?? settings.probeTimeout
            settings.probeFailures = environment["CELLAR_FAILOVER_PROBE_FAILURES"].flatMap(Int.init) ?? settings.probeFailures
            return settings
        }
    }

    let services: TaskManagerServices
    let settings: Settings

    var logger: Logger { services.logger }

    /// Runs until cancelled, leading whenever it holds the lock.
    func run() async throws {
        while !Task.isCancelled {
            do {
                try await services.client.withConnection { connection in
                    let rows = try await connection.guardedQuery("SELECT pg_try_advisory_lock(hashtext('cellar:failover-monitor'))", logger: logger)
                    guard try await rows.collect().first?.decode(Bool.self) == true else { return }
                    logger.info("leading failover detection")
                    defer { logger.info("no longer leading failover detection") }
                    try await lead()
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("failover monitor interrupted; trying again", metadata: ["error": "\(error)"])
            }
            // Cancelled while leading or waiting: the monitor's end, not a failure.
            do { try await Task.sleep(for: .seconds(2)) } catch { return }
        }
    }

    /// Looks at every active-passive cluster every `interval`, and at once when a primary's stream changes.
    private func lead() async throws {
        var failures: [String: Int] = [:]
        while !Task.isCancelled {
            let clusterIDs = try await services.client.query("SELECT id FROM clusters WHERE NOT deleted", logger: logger)
                .collect().map { try $0.decode(String.self) }
            var primaries: Set<String> = []
            for clusterID in clusterIDs {
                do {
                    if let primary = try await watch(clusterID, failures: &failures) { primaries.insert("instance-\(primary)") }
                } catch {
                    logger.warning("could not watch cluster", metadata: ["cluster": "\(clusterID)", "error": "\(error)"])
                }
            }
            try Task.checkCancellation()
            await services.appends.nextAppend(to: primaries, limit: settings.interval)
        }
    }

    /// Looks at one cluster; returns its primary while it is watched.
    private func watch(_ clusterID: String, failures: inout [String: Int]) async throws -> String? {
        let cluster = try await services.clusters.load(clusterID).state
        guard cluster.strategy == .activePassive, [Cluster.Leaf.active, .error, .rejoining].contains(cluster.phase),
            let primary = cluster.primaryId
        else { return nil }
        // After a failed failover, try again only now and then (a replica may catch up or come back meanwhile).
        if cluster.phase == .error, let failure = cluster.failure, Date().timeIntervalSince(failure.at) < settings.retryAfterFailure.seconds {
            return primary
        }
        let heartbeat = try await lastHeartbeat(of: primary)
        if let problem = try await heartbeatProblem(heartbeat, of: primary) {
            if await probe(primary) != nil {
                failures[clusterID] = 0
                return primary
            }
            failures[clusterID, default: 0] += 1
            // The guest saw its server exit (it is alive and says so): one probe confirms. A silent or unsure
            // guest may only be slow: it takes `probeFailures`, each after a late heartbeat.
            let needed = heartbeat.map(reportsExit) == true ? 1 : settings.probeFailures
            guard failures[clusterID, default: 0] >= needed else { return primary }
            failures[clusterID] = 0
            let reason = "\(problem); \(needed) direct probe\(needed == 1 ? "" : "s") of its check port failed"
            logger.warning("primary lost: failing over", metadata: ["cluster": "\(clusterID)", "primary": "\(primary)", "reason": "\(reason)"])
            _ = try await services.clusters.execute(
                .startFailover(lostPrimaryId: primary, reason: reason), on: clusterID,
                metadata: EventMetadata(service: "taskmanager"))
            return nil
        }
        failures[clusterID] = 0
        guard cluster.phase == .active else { return primary }
        for fenced in cluster.fencedMemberIds {
            guard let seen = try await lastHeartbeat(of: fenced), seen.age < settings.heartbeatGrace.seconds else { continue }
            logger.info("a fenced member answers again: it rejoins as a replica", metadata: ["cluster": "\(clusterID)", "member": "\(fenced)"])
            _ = try await services.clusters.execute(.requestRejoin(memberId: fenced), on: clusterID, metadata: EventMetadata(service: "taskmanager"))
            return primary
        }
        return primary
    }

    /// A fresh report from a guest whose server exited while it should run.
    private func reportsExit(_ heartbeat: Heartbeat) -> Bool {
        heartbeat.status == DatastoreCondition.crashed.rawValue && heartbeat.age < settings.heartbeatGrace.seconds
    }

    /// What is wrong with the primary's last heartbeat (nil: it is recent and healthy, or a restart is under way).
    private func heartbeatProblem(_ heartbeat: Heartbeat?, of primary: String) async throws -> String? {
        let status = try await services.client.query("SELECT status FROM instances WHERE id = \(primary)", logger: logger)
            .collect().first?.decode(String.self)
        if let status, ["BUILD", "REBOOT", "RESIZE"].contains(status) { return nil }  // down on purpose for a moment
        guard let heartbeat else { return "no heartbeat from the primary" }
        if heartbeat.age > settings.heartbeatGrace.seconds { return "the primary's last heartbeat is \(String(format: "%.1f", heartbeat.age)) s old" }
        if heartbeat.status != DatastoreCondition.healthy.rawValue { return "the primary reports \(heartbeat.status)" }
        return nil
    }

    struct Heartbeat {
        var status: String
        /// Seconds since it arrived.
        var age: Double
    }

    private func lastHeartbeat(of instanceID: String) async throws -> Heartbeat? {
        let rows = try await services.client.query(
            """
            SELECT status, EXTRACT(EPOCH FROM now() - last_seen)::float8 FROM guest_heartbeats WHERE instance_id = \(instanceID)
            """, logger: logger)
        return try await rows.collect().first.map { row in
            let (status, age) = try row.decode((String, Double).self)
            return Heartbeat(status: status, age: age)
        }
    }

    /// Asks the member's guest `GET /primary` on its check port; the answer's status line, or nil when it is not
    /// 200 within the probe's timeout.
    private func probe(_ instanceID: String) async -> String? {
        guard let address = try? await services.addresses.leased(by: instanceID) else { return nil }
        let timeout = settings.probeTimeout
        return await HealthProbe.ask(address: address, port: BalancerCheck.port, path: BalancerCheck.Question.primary.rawValue, timeout: timeout)
    }
}
