import APICore
import EventStore
import Foundation
import Synchronization

/// Token validation from memory: each valid token's caller is kept until its expiry or `timeToLive`, whichever
/// comes first, and forgotten at once when PostgreSQL says it was revoked or any user, project or role changed
/// (`CacheInvalidation`, in every API process). Unknown tokens are never kept (a flood of random tokens cannot
/// fill memory), and while notifications are not arriving every request asks the database.
public final class TokenCache: TokenValidator {
    private struct Entry {
        var caller: AuthContext
        var until: Date
    }

    let store: IdentityStore
    let invalidation: CacheInvalidation
    let timeToLive: TimeInterval
    let capacity: Int
    private let entries = Mutex([String: Entry]())

    public init(store: IdentityStore, invalidation: CacheInvalidation, timeToLive: Duration = .seconds(60), capacity: Int = 10_000) {
        self.store = store
        self.invalidation = invalidation
        self.timeToLive = Double(timeToLive.components.seconds)
        self.capacity = capacity
        invalidation.onInvalidate { [weak self] key in self?.forget(key) }
    }

    public func validate(token: String) async throws -> AuthContext? {
        guard invalidation.isLive else { return try await store.validate(token: token) }
        let key = SecureRandom.tokenHash(token)
        let now = Date()
        if let entry = entries.withLock({ $0[key] }), entry.until > now { return entry.caller }
        let info = try await invalidation.fill({ try await store.tokenInfo(token: token, at: now) }) { info in
            guard let info else { return }  // unknown tokens are not kept
            let entry = Entry(caller: info.context, until: min(info.expiresAt, now.addingTimeInterval(timeToLive)))
            entries.withLock { entries in
                if entries.count >= capacity { entries.removeAll() }
                entries[key] = entry
            }
        }
        return info?.context
    }

    /// How many tokens are held now.
    public var count: Int { entries.withLock { $0.count } }

    private func forget(_ key: String) {
        if key.hasPrefix("token:") {
            let hash = String(key.dropFirst("token:".count))
            entries.withLock { _ = $0.removeValue(forKey: hash) }
        } else if key == "identity" || key == CacheInvalidation.everything {
            entries.withLock { $0.removeAll() }
        }
    }
}
