import EventStore
import Foundation
import Synchronization

/// Each project's live instance rows (and who replicates whom) in memory, for the API's GETs: loaded with one
/// query on first use, forgotten when PostgreSQL says the project's instances changed (`instances:<project>`,
/// `migrations/0018`) or when this process's own projection applied something (at once, so a write answered by
/// this process is seen by its next read). While notifications do not arrive everything comes from the database.
public final class InstanceCache: Sendable {
    /// A project's rows, newest first (the list order), and each source's live replicas, oldest first.
    struct Snapshot: Sendable {
        var rows: [InstanceRecord]
        var replicas: [String: [String]]
    }

    let invalidation: CacheInvalidation
    private let projects = Mutex([String: Snapshot]())

    public init(invalidation: CacheInvalidation) {
        self.invalidation = invalidation
        invalidation.onInvalidate { [weak self] key in self?.forget(key) }
    }

    /// Whether rows may come from memory now (notifications arrive); otherwise each read asks the database.
    var isServing: Bool { invalidation.isLive }

    /// The project's snapshot, loaded by `load` when not held.
    func snapshot(of project: String, loading load: () async throws -> [InstanceRecord]) async throws -> Snapshot {
        if let held = projects.withLock({ $0[project] }) { return held }
        return try await invalidation.fill({
            let rows = try await load()
            var replicas: [String: [String]] = [:]
            for row in rows.sorted(by: { ($0.created, $0.id) < ($1.created, $1.id) }) {
                if let source = row.replicaOf { replicas[source, default: []].append(row.id) }
            }
            return Snapshot(rows: rows, replicas: replicas)
        }) { snapshot in projects.withLock { $0[project] = snapshot } }
    }

    private func forget(_ key: String) {
        if key.hasPrefix("instances:") {
            let project = String(key.dropFirst("instances:".count))
            projects.withLock { _ = $0.removeValue(forKey: project) }
        } else if key == "instances" || key == CacheInvalidation.everything {
            projects.withLock { $0.removeAll() }
        }
    }
}
