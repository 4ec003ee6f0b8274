import Foundation

/// Where password hashes are computed: one serial queue of its own, never a server event loop. A hash is
/// deliberately slow (PBKDF2), so a flood of logins, failed or not, waits its turn here while every other request
/// keeps the event loops (and a core) to itself.
enum PasswordWork {
    private static let queue = DispatchQueue(label: "cellar.identity.password-hashing", qos: .userInitiated)

    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in queue.async { continuation.resume(returning: body()) } }
    }
}

/// Keystone's `lockout_failure_attempts` and `lockout_duration`: a user whose password was wrong this many times
/// in a row is refused for that long, without the password being checked. `failureAttempts` 0 turns it off.
public struct LockoutPolicy: Sendable, Equatable {
    public var failureAttempts: Int
    public var duration: Duration

    public init(failureAttempts: Int = 10, duration: Duration = .seconds(1800)) {
        self.failureAttempts = failureAttempts
        self.duration = duration
    }

    /// `CELLAR_LOCKOUT_FAILURE_ATTEMPTS` (10; 0: off) and `CELLAR_LOCKOUT_DURATION` (seconds, 1800).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> LockoutPolicy {
        var policy = LockoutPolicy()
        if let attempts = environment["CELLAR_LOCKOUT_FAILURE_ATTEMPTS"].flatMap(Int.init), attempts >= 0 { policy.failureAttempts = attempts }
        if let seconds = environment["CELLAR_LOCKOUT_DURATION"].flatMap(Int.init), seconds > 0 { policy.duration = .seconds(seconds) }
        return policy
    }
}
