import Foundation
import Synchronization

/// Failed logins per source address, in this process: past `limit` failures within `window`, a source's logins
/// are refused at once, before any password is hashed, until the window has passed. Together with the per-user
/// lockout this keeps a password-guessing flood from one place from spending the hashing queue.
public final class LoginThrottle: Sendable {
    let limit: Int
    let window: Duration
    private let failures = Mutex<[String: [ContinuousClock.Instant]]>([:])

    public init(limit: Int = 20, window: Duration = .seconds(60)) {
        self.limit = limit
        self.window = window
    }

    /// When `source` may try again, or nil if it may now.
    public func refusal(for source: String?, at now: ContinuousClock.Instant = .now) -> Duration? {
        guard let source, limit > 0 else { return nil }
        return failures.withLock { table in
            let recent = (table[source] ?? []).filter { now - $0 < window }
            table[source] = recent.isEmpty ? nil : recent
            guard recent.count >= limit, let oldest = recent.first else { return nil }
            return window - (now - oldest)
        }
    }

    /// Counts a failed login from `source`.
    public func recordFailure(from source: String?, at now: ContinuousClock.Instant = .now) {
        guard let source, limit > 0 else { return }
        failures.withLock { table in
            var recent = (table[source] ?? []).filter { now - $0 < window }
            recent.append(now)
            table[source] = Array(recent.suffix(limit))
            // Bounded memory under a spoofed-address flood: forget the quietest sources first.
            if table.count > 10_000, let quiet = table.min(by: { ($0.value.last ?? now) < ($1.value.last ?? now) })?.key {
                table[quiet] = nil
            }
        }
    }
}
