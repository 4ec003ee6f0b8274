import Logging
import PostgresNIO
import Synchronization

/// Tells a process's in-memory caches when what they hold changed in PostgreSQL, from any writer: triggers
/// `NOTIFY cellar_cache` with a key (`token:<hash>`, `identity`, `catalog`; `migrations/0017`), and `run`
/// listens. A cache serves from memory only while the listener is connected (`isLive`); whenever it connects
/// again, everything is forgotten (notifications may have been missed meanwhile).
///
/// A fill races with an invalidation that lands while the fill reads the database; `fill` keeps what it read
/// only if no invalidation came in between.
public final class CacheInvalidation: Sendable {
    public static let channel = "cellar_cache"
    /// The key that makes every cache forget everything.
    public static let everything = "*"

    private struct State {
        var live = false
        var generation: UInt64 = 0
        var handlers: [@Sendable (String) -> Void] = []
    }
    private let state = Mutex(State())

    public init() {}

    /// Whether notifications arrive now; without them nothing may be served from memory.
    public var isLive: Bool { state.withLock { $0.live } }
    /// Changes with every invalidation.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// `handler` is called with each key (and `everything` on every reconnect or loss of the listener).
    public func onInvalidate(_ handler: @escaping @Sendable (String) -> Void) {
        state.withLock { $0.handlers.append(handler) }
    }

    /// Listens until cancelled; reconnects after errors.
    public func run(client: PostgresClient, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        self.setLive(true)
                        for try await notification in notifications { self.invalidate(notification.payload) }
                    }
                }
            } catch {
                if Task.isCancelled { break }
                logger.debug("cache notifications interrupted; caches bypassed until they are back", metadata: ["error": "\(error)"])
            }
            setLive(false)
            try? await Task.sleep(for: .seconds(1))
        }
        setLive(false)
    }

    /// Loads what a cache misses and hands it to `keep` only if it may be kept: notifications arrive and no
    /// invalidation came in while `load` read the database (a change may have raced it).
    public func fill<Value>(_ load: () async throws -> Value, keep: (Value) -> Void) async throws -> Value {
        let before = generation
        let value = try await load()
        if isLive, generation == before { keep(value) }
        return value
    }

    /// Forgets `key` in every cache.
    public func invalidate(_ key: String) {
        let handlers = state.withLock { state in
            state.generation &+= 1
            return state.handlers
        }
        for handler in handlers { handler(key) }
    }

    private func setLive(_ live: Bool) {
        state.withLock { $0.live = live }
        invalidate(Self.everything)
    }
}
