import Foundation

/// A database instance: created, built on compute, then restarted, resized, backed up, replicated, deleted,
/// along `statecharts/instance.scxml`.
public enum Instance: Aggregate {
    /// The guards `instance.scxml` uses in `cond`.
    public enum Guard: String, CaseIterable, Sendable {
        /// The guest's last report was healthy (a backup needs a running datastore).
        case guestHealthy
        /// A guest agent has registered, so compute exists and the instance can be shown ACTIVE after a reset.
        case guestRegistered
        /// The instance replicates from another (`replica_of`); promote, eject and detach need it.
        case isReplica
        /// The instance went to ERROR while building, so the build can be retried.
        case failedWhileBuilding
        /// Settings staged on the guest wait for a restart (a failed reconfiguration keeps RESTART_REQUIRED).
        case restartPending
    }

    /// Whether `name` holds in `state`; names the chart uses but `Guard` does not know are false.
    public static func guardHolds(_ name: String, in state: State, on event: Event) -> Bool {
        guard let known = Guard(rawValue: name) else { return false }
        switch known {
        case .guestHealthy: return state.health == .healthy
        case .guestRegistered: return state.guestRegistered
        case .isReplica: return state.replicaOf != nil
        case .failedWhileBuilding: return state.fault?.statusBefore == "BUILD"
        case .restartPending: return !(state.pendingRestart ?? []).isEmpty
        }
    }
}

/// The datastore's health as the guest reports it (Trove `ServiceStatus`), shown as `operating_status`.
public enum GuestHealth: String, Codable, Sendable, Equatable, CaseIterable {
    /// HEALTHY: the datastore answers queries.
    case healthy
    /// BLOCKED: the datastore refuses connections.
    case blocked
    /// SHUTDOWN: the datastore is stopped.
    case shutdown
    /// CRASHED (shown SHUTDOWN): the datastore stopped unexpectedly.
    case crashed
    /// FAILED: the datastore failed to start.
    case failed
    /// UNKNOWN (shown ERROR): the status is unknown, e.g. after a reset-status.
    case unknown
    /// FAILED_TIMEOUT_GUESTAGENT (shown ERROR): no heartbeat for longer than the expiry.
    case heartbeatExpired

    /// The `operating_status` Trove shows for it (`ServiceStatus.api_status`).
    public var operatingStatus: String {
        switch self {
        case .healthy: "HEALTHY"
        case .blocked: "BLOCKED"
        case .shutdown, .crashed: "SHUTDOWN"
        case .failed: "FAILED"
        case .unknown, .heartbeatExpired: "ERROR"
        }
    }
}
