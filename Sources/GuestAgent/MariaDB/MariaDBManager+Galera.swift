import Bus
import Foundation
import GuestProtocol
import LocalServers

/// Galera membership (MariaDB clusters). The first member of a new cluster seeds the group
/// (`--wsrep-new-cluster`) and makes the state-transfer account; every other member starts with an empty data
/// directory, copies a running member's data by `mariadb-backup` (SST), and is prepared once it is synced. A
/// member whose server died is started again by its guest and catches up by incremental transfer (IST). When
/// the whole group stopped, the member Galera marks safe to bootstrap (the last to leave) seeds it again.
extension MariaDBManager {
    /// The OS user the server runs as (the guest's): the guest's own account, which state transfers use too.
    nonisolated var transferUser: String { MariaDBClient.processUser }

    /// Joins the group this member's state names: an empty data directory, the server started without seeding,
    /// done once it is synced with the primary component. Done already: waits for the sync only.
    func joinGroup() async throws {
        if !isServerRunning() {
            try await onDedicatedThread { [self] in try makeDataDirectory() }
            try writeOptions()
            try await startServer(seedingGroup: false)
        }
        try await waitUntilSynced(timeout: .seconds(170))
    }

    /// The server's view of the group (`SHOW GLOBAL STATUS`).
    func groupStatus() async throws -> GaleraStatus {
        let names = (["wsrep_local_state_comment", "wsrep_cluster_status"] + GaleraStatus.figureNames).map(MariaDBClient.literal)
        let rows = try await admin { try $0.run("SHOW GLOBAL STATUS WHERE Variable_name IN (\(names.joined(separator: ", ")))") }
        return GaleraStatus(values: Dictionary(rows.filter { $0.count == 2 }.map { ($0[0].lowercased(), $0[1]) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Waits until the server is synced with the group's primary component.
    func waitUntilSynced(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = GaleraStatus(values: [:])
        while ContinuousClock.now < deadline {
            if let status = try? await groupStatus() {
                if status.isServing { return }
                last = status
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw RemoteFailure(
            type: "ClusterJoinFailed",
            message: "the member did not sync with its group within \(timeout): "
                + "state \(last.values["wsrep_local_state_comment"] ?? "unknown"), component \(last.values["wsrep_cluster_status"] ?? "unknown")")
    }

    /// Galera's own mark on the member that left a stopped group last (`safe_to_bootstrap: 1`).
    func isSafeToSeed() -> Bool {
        let grastate = (try? String(contentsOf: paths.data.appendingPathComponent("grastate.dat"), encoding: .utf8)) ?? ""
        return grastate.split(separator: "\n").contains { $0.replacingOccurrences(of: " ", with: "") == "safe_to_bootstrap:1" }
    }

    /// A member's server that died is started again (at most every 5 s), off the heartbeat's path.
    func rejoinSoon() {
        guard !rejoining, lastRejoin.map({ ContinuousClock.now - $0 > .seconds(5) }) ?? true else { return }
        rejoining = true
        lastRejoin = ContinuousClock.now
        logger.warning("the member's server is down: starting it again to rejoin the group")
        Task {
            do { try await startServer(seedingGroup: false) } catch {
                logger.error("the member could not rejoin its group", metadata: ["error": "\(error)"])
            }
            rejoining = false
        }
    }

    private nonisolated func makeDataDirectory() throws {
        for directory in [paths.logDirectory, paths.data] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }
}

/// A member's Galera status values.
struct GaleraStatus: Sendable {
    /// Lower-case status names to values.
    var values: [String: String]

    /// The figures heartbeats carry (`/metrics` shows them per member).
    static let figureNames = [
        "wsrep_cluster_size", "wsrep_local_state", "wsrep_flow_control_paused", "wsrep_local_recv_queue", "wsrep_local_cert_failures",
    ]

    /// Synced, in the primary component: the member may take clients.
    var isServing: Bool { values["wsrep_local_state_comment"] == "Synced" && values["wsrep_cluster_status"] == "Primary" }

    var figures: [String: Double] {
        Dictionary(uniqueKeysWithValues: Self.figureNames.compactMap { name in values[name].flatMap(Double.init).map { (name, $0) } })
    }
}
