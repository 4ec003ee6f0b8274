import EventStore
import Synchronization

/// The operator catalog (datastores with their versions, flavors) in memory, forgotten whenever PostgreSQL says
/// it changed (`CacheInvalidation`); read from the database while notifications are not arriving.
public final class CatalogCache: Sendable {
    private struct Snapshot {
        var datastores: [DatastoreEntry]?
        var flavors: [Flavor]?
    }

    let invalidation: CacheInvalidation
    private let snapshot = Mutex(Snapshot())

    public init(invalidation: CacheInvalidation) {
        self.invalidation = invalidation
        invalidation.onInvalidate { [weak self] key in
            guard key == "catalog" || key == CacheInvalidation.everything else { return }
            self?.snapshot.withLock { $0 = Snapshot() }
        }
    }

    func datastores(loading load: () async throws -> [DatastoreEntry]) async throws -> [DatastoreEntry] {
        try await cached(\.datastores, loading: load)
    }

    func flavors(loading load: () async throws -> [Flavor]) async throws -> [Flavor] {
        try await cached(\.flavors, loading: load)
    }

    private func cached<Value: Sendable>(_ path: WritableKeyPath<Snapshot, Value?>, loading load: () async throws -> Value) async throws -> Value {
        guard invalidation.isLive else { return try await load() }
        if let value = snapshot.withLock({ $0[keyPath: path] }) { return value }
        return try await invalidation.fill(load) { value in snapshot.withLock { $0[keyPath: path] = value } }
    }
}
