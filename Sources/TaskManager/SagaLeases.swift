import Foundation
import Logging
import PostgresNIO

/// Which task manager runs the sagas of which subject (`saga_leases`), so several can run at once: a subject's
/// sagas run only under its lease, taken when free or expired, confirmed (and extended) before every step is
/// recorded, renewed for all of an owner's subjects while the owner lives, and given up when its last saga there
/// ends. An owner that dies stops renewing: within `duration` its subjects are free, and the next scan of a
/// survivor resumes their sagas from the log. Times are the database's, so the task managers' clocks need not agree.
struct SagaLeases: Sendable {
    let client: PostgresClient
    /// This task manager (a fresh id per process: a restarted one is a newcomer like any other).
    let owner: String
    /// How long a lease lasts unrenewed (`CELLAR_SAGA_LEASE_SECONDS`, 5 s).
    let duration: Duration
    let logger: Logger

    init(client: PostgresClient, duration: Duration, logger: Logger) {
        self.client = client
        self.owner = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8).lowercased())"
        self.duration = duration
        self.logger = logger
    }

    private var seconds: Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

    /// Takes (or extends) the subject's lease if it is free, expired or this owner's already; false while another
    /// owner holds it. Asked before a saga is queued and before every step is recorded.
    func acquire(_ subject: String) async throws -> Bool {
        let rows = try await client.query(
            """
            INSERT INTO saga_leases (subject, owner, expires_at)
            VALUES (\(subject), \(owner), clock_timestamp() + \(seconds) * interval '1 second')
            ON CONFLICT (subject) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
            WHERE saga_leases.owner = EXCLUDED.owner OR saga_leases.expires_at < clock_timestamp()
            RETURNING 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Extends every lease this owner holds (while a long step runs, or a saga waits its turn, it must not lapse).
    func renewAll() async throws {
        try await client.query(
            """
            UPDATE saga_leases SET expires_at = clock_timestamp() + \(seconds) * interval '1 second' WHERE owner = \(owner)
            """, logger: logger)
    }

    /// The subjects whose lease is live, with their owners.
    func live() async throws -> [String: String] {
        let rows = try await client.query("SELECT subject, owner FROM saga_leases WHERE expires_at > clock_timestamp()", logger: logger)
        var owners: [String: String] = [:]
        for try await (subject, owner) in rows.decode((String, String).self) { owners[subject] = owner }
        return owners
    }

    /// Gives every lease of this owner up (a graceful stop: the others need not wait for them to expire).
    func releaseAll() async {
        _ = try? await client.query("DELETE FROM saga_leases WHERE owner = \(owner)", logger: logger)
    }

    /// Gives the lease up (no saga of the subject is left here).
    func release(_ subject: String) async {
        _ = try? await client.query("DELETE FROM saga_leases WHERE subject = \(subject) AND owner = \(owner)", logger: logger)
    }
}
