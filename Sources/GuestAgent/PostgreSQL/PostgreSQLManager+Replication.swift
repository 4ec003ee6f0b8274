import Bus
import Foundation
import GuestProtocol
import Lifecycle
import LocalServers
import PostgresNIO

/// What an active-passive member's guest does beyond a standalone server: the primary serves the replication
/// account; a replica is a base backup of its primary, streaming through its own slot (hot standby: reads only);
/// a failover fences the lost primary, promotes one replica and re-points the others; a fenced member rejoins
/// from a fresh base backup. A member that was the primary never starts its server on its own (after a crash or
/// a restart of its guest): only the control plane says whether it is still the primary.
protocol ReplicatingManager: DatastoreManager {
    /// The cluster's replication password, opened by the dispatcher (it never rests in the guest's state).
    func useReplicationPassword(_ password: String)
    /// Stops the server (at once, or gracefully for a switchover) and keeps it stopped: it never takes writes
    /// again until it rejoins.
    func fence(graceful: Bool) async throws
    /// Becomes the primary, with a slot for each follower (in order of preference for synchronous commits).
    func promote(replicaSlots: [String]) async throws
    /// Replicates from another primary from now on (no restart: the WAL receiver reconnects).
    func follow(_ replication: ReplicationSettings) async throws
    /// Starts over as a replica of `replication`'s primary from a fresh base backup.
    func rejoin(_ replication: ReplicationSettings) async throws
    /// The live replication state.
    func replicationStatus() async -> ReplicationStatus
    /// Serves Trove replicas: the replication account, and their addresses allowed to connect.
    func serveReplicas(_ replication: ReplicationSettings, addresses: [String]) async throws
    /// Drops a replica's slot (a replica still connected keeps it: the call fails).
    func dropReplicationSlot(_ slot: String) async throws
    /// What a balancer check asks, answered from the server itself.
    func answers(_ question: BalancerCheck.Question) async -> Bool
    /// This server is an active-passive member.
    var isReplicating: Bool { get }
    /// The server's PID while it runs: the guest waits for its exit, to report a crash at once.
    func serverProcess() async -> Int32?
}

extension PostgreSQLManager: ReplicatingManager {
    func useReplicationPassword(_ password: String) { replicationPassword = password }

    /// `prepare` of a replica: it waits for its primary and copies it (once), then runs as a hot standby. Its
    /// databases, users and replication account are its primary's.
    func prepareReplica(of primary: String, slotName: String) async throws {
        if !FileManager.default.fileExists(atPath: paths.initialized.path) {
            try await copyPrimary(at: primary, slotName: slotName)
        }
        try writeConfiguration()
        try await startServer()
        try markPrepared()
    }

    /// A fenced member is not restarted: started on its own it would be a second writable primary.
    func checkMayRestart() throws {
        guard !state.fenced else {
            throw RemoteFailure(type: "Fenced", message: "this member was fenced by a failover; it starts again only by rejoining as a replica")
        }
    }

    func serveReplicas(_ replication: ReplicationSettings, addresses: [String]) async throws {
        try requirePrepared()
        var cluster = state.cluster ?? ClusterSettings(name: "replication", nodeName: replication.slotName, peerAddresses: [address], seed: true)
        if cluster.replication == nil { cluster.replication = replication }
        cluster.peerAddresses = Array(Set(cluster.peerAddresses + addresses)).sorted()
        state.cluster = cluster
        try state.save(to: paths.guestState)
        try writeConfiguration()
        try await ensureReplicationAccount()
        try await withAdmin { connection in
            try await connection.query("SELECT pg_reload_conf()", logger: self.logger)
        }
    }

    /// The replica's walsender may still hold the slot for a moment after the replica stopped or was promoted:
    /// wait up to 10 s for it to let go, then end that session.
    func dropReplicationSlot(_ slot: String) async throws {
        guard state.prepared, try await isServerRunning() else { return }
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let remaining = try await withAdmin { connection -> Int in
                try await connection.query(
                    """
                    SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = \(slot) AND NOT active
                    """, logger: self.logger)
                if ContinuousClock.now >= deadline {
                    try await connection.query(
                        """
                        SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = \(slot) AND active
                        """, logger: self.logger)
                }
                return try await connection.query("SELECT count(*)::int FROM pg_replication_slots WHERE slot_name = \(slot)", logger: self.logger)
                    .collect().first?.decode(Int.self) ?? 0
            }
            if remaining == 0 { return }
            guard ContinuousClock.now < deadline + .seconds(5) else {
                throw RemoteFailure(type: "SlotInUse", message: "replication slot \(slot) is still in use")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    func fence(graceful: Bool) async throws {
        state.fenced = true
        try state.save(to: paths.guestState)
        // Fast: the walsenders send everything to the replicas, and wait for them, before the server exits.
        try await stopServer(mode: graceful ? "fast" : "immediate", waitingUpTo: 40)
        logger.warning("fenced: the server is stopped until this member rejoins as a replica")
    }

    func promote(replicaSlots: [String]) async throws {
        try requirePrepared()
        guard !state.fenced else { throw RemoteFailure(type: "Fenced", message: "a fenced member is not promoted") }
        guard try await isServerRunning() else { throw RemoteFailure(type: "NotRunning", message: "the server is not running") }
        if try await inRecovery() {
            let binaries = try PostgresBinaries.locate()
            try await onDedicatedThread { [self] in
                try CommandRunner.run(binaries.path("pg_ctl"), ["-D", paths.data.path, "-w", "-s", "-t", "30", "promote"])
            }
        }
        try? FileManager.default.removeItem(at: paths.replicationConf)
        state.synchronousStandbys = state.cluster?.replication?.synchronous == true ? replicaSlots : []
        state.cluster?.replication?.primaryAddress = nil
        try state.save(to: paths.guestState)
        try writeConfiguration()
        try await withAdmin { connection in
            for slot in replicaSlots {
                try await connection.query(
                    """
                    SELECT pg_create_physical_replication_slot(\(slot), true)
                    WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = \(slot))
                    """, logger: self.logger)
            }
            try await connection.query("SELECT pg_reload_conf()", logger: self.logger)
        }
        try await ensureReplicationAccount()
        logger.info("promoted to primary", metadata: ["slots": "\(replicaSlots)"])
    }

    func follow(_ replication: ReplicationSettings) async throws {
        try requirePrepared()
        guard let primary = replication.primaryAddress else { throw RemoteFailure(type: "InvalidArguments", message: "follow needs a primary") }
        try writeStandbySettings(primary: primary, slotName: replication.slotName, password: try givenReplicationPassword())
        state.cluster?.replication?.primaryAddress = primary
        try state.save(to: paths.guestState)
        if try await isServerRunning() {
            try await withAdmin { connection in
                try await connection.query("SELECT pg_reload_conf()", logger: self.logger)
            }
        } else if !state.fenced {
            try await startServer()
        }
        logger.info("following a new primary", metadata: ["primary": "\(primary)"])
    }

    func rejoin(_ replication: ReplicationSettings) async throws {
        guard let primary = replication.primaryAddress else { throw RemoteFailure(type: "InvalidArguments", message: "rejoin needs a primary") }
        try await stopServer(mode: "immediate", waitingUpTo: 20)
        try? FileManager.default.removeItem(at: paths.initialized)
        try await copyPrimary(at: primary, slotName: replication.slotName)
        state.cluster?.replication?.primaryAddress = primary
        state.fenced = false
        state.stoppedOnPurpose = false
        try state.save(to: paths.guestState)
        try writeConfiguration()
        try await startServer()
        logger.info("rejoined as a replica", metadata: ["primary": "\(primary)"])
    }

    func replicationStatus() async -> ReplicationStatus {
        let stopped = ReplicationStatus(
            running: false, role: isStandby ? .replica : .primary, fenced: state.fenced, timeline: 0,
            receivedLSN: 0, replayedLSN: 0, synchronousStandbys: [])
        guard state.prepared, (try? await isServerRunning()) == true else { return stopped }
        let fenced = state.fenced
        do {
            return try await withAdmin { connection in
                let recovery = try await connection.query("SELECT pg_is_in_recovery()", logger: self.logger).collect()
                let inRecovery = try recovery.first?.decode(Bool.self) ?? false
                let timeline =
                    try await connection.query("SELECT timeline_id::int8 FROM pg_control_checkpoint()", logger: self.logger)
                    .collect().first?.decode(Int64.self) ?? 0
                if inRecovery {
                    var (received, replayed, receivedTimeline): (Int64, Int64, Int64) = (0, 0, 0)
                    for try await row in try await connection.query(
                        """
                        SELECT COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0'), 0)::int8,
                               COALESCE(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), 0)::int8,
                               COALESCE((SELECT received_tli FROM pg_stat_wal_receiver), 0)::int8
                        """, logger: self.logger
                    ).decode((Int64, Int64, Int64).self) {
                        (received, replayed, receivedTimeline) = row
                    }
                    return ReplicationStatus(
                        running: true, role: .replica, fenced: fenced,
                        timeline: Int(max(timeline, receivedTimeline)),
                        receivedLSN: UInt64(max(received, replayed)), replayedLSN: UInt64(replayed), synchronousStandbys: [])
                }
                let position =
                    try await connection.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::int8", logger: self.logger)
                    .collect().first?.decode(Int64.self) ?? 0
                var synchronous: [String] = []
                var lag: [String: Int64] = [:]
                for try await (name, syncState, behind) in try await connection.query(
                    """
                    SELECT application_name, sync_state, COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::int8
                    FROM pg_stat_replication
                    """, logger: self.logger
                ).decode((String, String, Int64).self) {
                    if syncState == "sync" { synchronous.append(name) }
                    lag[name] = behind
                }
                return ReplicationStatus(
                    running: true, role: .primary, fenced: fenced, timeline: Int(timeline),
                    receivedLSN: UInt64(position), replayedLSN: UInt64(position),
                    synchronousStandbys: synchronous, standbyLagBytes: lag)
            }
        } catch {
            return stopped
        }
    }

    /// What a balancer check asks, answered from the server itself.
    func answers(_ question: BalancerCheck.Question) async -> Bool {
        guard state.prepared, !state.fenced, (try? await isServerRunning()) == true else { return false }
        switch question {
        case .ready: return true
        case .primary: return (try? await inRecovery()) == false
        case .replica: return (try? await inRecovery()) == true
        }
    }

    // MARK: - Helpers

    var isReplicating: Bool { state.cluster?.replication != nil }

    /// The data directory says this server is a standby (`standby.signal`).
    var isStandby: Bool { FileManager.default.fileExists(atPath: paths.data.appendingPathComponent("standby.signal").path) }

    /// An active-passive member that is not a standby: it was the primary, and does not start on its own.
    var waitsForTheControlPlane: Bool {
        guard let replication = state.cluster?.replication, replication.automaticFailover != false else { return false }
        return state.fenced || !isStandby
    }

    /// Whether the server is a standby still, asked on one connection kept open: the balancer asks up to ten
    /// times a second, which must not start a server process each time.
    func inRecovery() async throws -> Bool {
        let connection: PostgresConnection
        if let open = checkConnection, !open.isClosed {
            connection = open
        } else {
            let opened = try await PostgresConnection.connect(configuration: adminConfiguration(), id: 2, logger: logger)
            // Another check may have opened one meanwhile: one is kept.
            if let other = checkConnection, !other.isClosed {
                try? await opened.close()
                connection = other
            } else {
                checkConnection = opened
                connection = opened
            }
        }
        do {
            return try await connection.query("SELECT pg_is_in_recovery()", logger: logger).collect().first?.decode(Bool.self) ?? false
        } catch {
            if checkConnection === connection { checkConnection = nil }
            try? await connection.close()
            throw error
        }
    }

    static let missingReplicationPassword = RemoteFailure(type: "MissingSecret", message: "the cluster's replication password was not given")

    /// The replication password this call brought (the dispatcher opens it before a call that needs it).
    private func givenReplicationPassword() throws -> String {
        guard let replicationPassword else { throw Self.missingReplicationPassword }
        return replicationPassword
    }

    /// The replication account, with the cluster's password (created on the primary; standbys copy it, so a
    /// promoted one has it already, even when its guest no longer holds the password).
    func ensureReplicationAccount() async throws {
        let password = replicationPassword
        let user = PostgreSQLConfigurationFiles.replicationUser
        try await withAdmin { connection in
            let exists = try await self.exists("SELECT 1 FROM pg_roles WHERE rolname = \(user)", on: connection)
            guard let password else {
                if exists { return }
                throw Self.missingReplicationPassword
            }
            let verb = exists ? "ALTER" : "CREATE"
            try await connection.query(
                PostgresQuery(unsafeSQL: "\(verb) ROLE \(user) WITH REPLICATION LOGIN PASSWORD \(SQLText.verifier(of: password))"),
                logger: self.logger)
        }
    }

    /// Waits for the primary (it may still be starting), then copies it with `pg_basebackup` through this
    /// member's slot (made by the copy, or found from an earlier attempt), and marks the copy a standby.
    private func copyPrimary(at primary: String, slotName: String) async throws {
        let password = try givenReplicationPassword()
        let binaries = try PostgresBinaries.locate()
        let deadline = ContinuousClock.now + .seconds(150)
        var lastFailure = ""
        while ContinuousClock.now < deadline {
            do {
                try await onDedicatedThread { [self] in try baseBackup(binaries, from: primary, slotName: slotName, password: password) }
                return
            } catch let failure as CommandFailure {
                lastFailure = failure.output
                try await Task.sleep(for: .milliseconds(300))
            }
        }
        throw RemoteFailure(type: "BaseBackupFailed", message: "could not copy the primary \(primary): \(lastFailure.suffix(300))")
    }

    private nonisolated func baseBackup(_ binaries: PostgresBinaries, from primary: String, slotName: String, password: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: paths.logDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try emptyDataDirectory()
        let arguments = [
            "-h", primary, "-p", "\(port)", "-U", PostgreSQLConfigurationFiles.replicationUser, "-D", paths.data.path,
            "-X", "stream", "-c", "fast", "--no-sync", "-w",
        ]
        let environment = ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "2"]
        do {
            try CommandRunner.run(binaries.path("pg_basebackup"), arguments + ["-C", "-S", slotName], environment: environment)
        } catch let failure as CommandFailure where failure.output.contains("already exists") {
            try emptyDataDirectory()
            try CommandRunner.run(binaries.path("pg_basebackup"), arguments + ["-S", slotName], environment: environment)
        }
        try writeStandbySettings(primary: primary, slotName: slotName, password: password)
        let signal = paths.data.appendingPathComponent("standby.signal")
        try Data().write(to: signal, options: .atomic)
        // The primary's own replication settings came with the copy: this member's are written next.
        try? manager.removeItem(at: paths.data.appendingPathComponent("postmaster.pid"))
        try Data().write(to: paths.initialized, options: .atomic)
    }

    /// `cellar-replication.conf`: the primary to stream from and this member's slot there.
    private nonisolated func writeStandbySettings(primary: String, slotName: String, password: String) throws {
        let text = PostgreSQLConfigurationFiles.standbySettings(primaryAddress: primary, port: port, password: password, slotName: slotName)
        try writePrivateFile(Data(text.utf8), to: paths.replicationConf)
    }
}
