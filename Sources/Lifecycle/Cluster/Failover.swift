import Foundation

/// Whom to promote when an active-passive cluster's primary is lost, from the members' last reports: pure, so
/// every rule and refusal is tested without a server.
///
/// Rule: among healthy replicas on the newest timeline, with a weight above 0, within the lag bound (in
/// synchronous mode: only standbys that had confirmed the last commits), the highest weight wins; ties go to the
/// most caught-up (received, then replayed position), then to the lowest id so the answer never depends on order.
public enum Failover {
    /// A member's part in replication.
    public enum Role: String, Codable, Sendable, Equatable {
        case primary, replica
    }

    /// What a member last reported.
    public struct MemberReport: Codable, Sendable, Equatable {
        /// The member's instance id.
        public var id: String
        public var role: Role
        /// Heartbeats arrive and the server answers.
        public var healthy: Bool
        /// The PostgreSQL timeline it is on.
        public var timeline: Int
        /// The WAL position received from the primary (replicas) or written (the primary).
        public var receivedLSN: UInt64
        /// The WAL position replayed.
        public var replayedLSN: UInt64
        /// Promotion preference (0: never promoted).
        public var weight: Int
        /// A synchronous standby that had confirmed the primary's last commits.
        public var confirmedSynchronous: Bool

        /// Creates a report.
        public init(
            id: String, role: Role, healthy: Bool, timeline: Int, receivedLSN: UInt64, replayedLSN: UInt64, weight: Int,
            confirmedSynchronous: Bool = false
        ) {
            self.id = id
            self.role = role
            self.healthy = healthy
            self.timeline = timeline
            self.receivedLSN = receivedLSN
            self.replayedLSN = replayedLSN
            self.weight = weight
            self.confirmedSynchronous = confirmedSynchronous
        }
    }

    /// The cluster's failover settings.
    public struct Policy: Codable, Sendable, Equatable {
        /// The most WAL, in bytes, a replica may miss (behind the primary's last known position) to be promoted.
        public var maximumLagBytes: UInt64
        /// A commit waited for a standby: only such a standby may be promoted (nothing acknowledged is lost).
        public var synchronous: Bool

        /// Creates a policy.
        public init(maximumLagBytes: UInt64, synchronous: Bool) {
            self.maximumLagBytes = maximumLagBytes
            self.synchronous = synchronous
        }
    }

    /// Why a member cannot be promoted.
    public enum Refusal: Sendable, Equatable, CustomStringConvertible {
        case isPrimary(String)
        case unhealthy(String)
        case neverPromoted(String)
        case oldTimeline(String, timeline: Int, newest: Int)
        case lagging(String, bytes: UInt64, bound: UInt64)
        case notSynchronous(String)

        public var description: String {
            switch self {
            case .isPrimary(let id): "\(id) is the lost primary"
            case .unhealthy(let id): "\(id) is not healthy"
            case .neverPromoted(let id): "\(id) has weight 0 (never promoted)"
            case .oldTimeline(let id, let timeline, let newest): "\(id) is on timeline \(timeline), behind \(newest)"
            case .lagging(let id, let bytes, let bound): "\(id) lags \(bytes) bytes, more than the bound of \(bound)"
            case .notSynchronous(let id): "\(id) had not confirmed the last commits (synchronous mode)"
            }
        }
    }

    /// The answer: whom to promote, or why nobody can be.
    public enum Decision: Sendable, Equatable {
        case promote(String)
        case nobody([Refusal])
    }

    /// The decision for `members`, given the primary's last known WAL position (nil: unknown, the lag is measured
    /// from the most advanced member instead).
    public static func choose(_ members: [MemberReport], primaryLSN: UInt64?, policy: Policy) -> Decision {
        let (candidates, refusals) = assess(members, primaryLSN: primaryLSN, policy: policy)
        let winner = candidates.max { a, b in
            (a.weight, a.receivedLSN, a.replayedLSN, b.id) < (b.weight, b.receivedLSN, b.replayedLSN, a.id)
        }
        return winner.map { .promote($0.id) } ?? .nobody(refusals)
    }

    /// The members that may be promoted, and why each of the others may not.
    public static func assess(_ members: [MemberReport], primaryLSN: UInt64?, policy: Policy) -> (candidates: [MemberReport], refusals: [Refusal]) {
        let newestTimeline = members.map(\.timeline).max() ?? 0
        let reference = primaryLSN ?? members.map(\.receivedLSN).max() ?? 0
        var refusals: [Refusal] = []
        var candidates: [MemberReport] = []
        for member in members {
            let lag = reference > member.receivedLSN ? reference - member.receivedLSN : 0
            let refusal: Refusal? =
                if member.role == .primary { .isPrimary(member.id) } else if !member.healthy { .unhealthy(member.id) } else if member.weight <= 0 {
                    .neverPromoted(member.id)
                } else if member.timeline < newestTimeline {
                    .oldTimeline(member.id, timeline: member.timeline, newest: newestTimeline)
                } else if policy.synchronous && !member.confirmedSynchronous { .notSynchronous(member.id) } else if lag > policy.maximumLagBytes {
                    .lagging(member.id, bytes: lag, bound: policy.maximumLagBytes)
                } else { nil }
            if let refusal { refusals.append(refusal) } else { candidates.append(member) }
        }
        return (candidates, refusals)
    }
}
