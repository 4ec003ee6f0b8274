import Foundation
import Lifecycle
import Testing

/// Stored event streams (`Histories/*.json`) that must keep folding to the same state after any change to
/// events, charts or `evolve`. Run with `CELLAR_RECORD_HISTORIES=1` to rewrite the expected states after a
/// deliberate change, and review the diff.
@Suite("Golden histories")
struct GoldenHistoryTests {
    /// One history file: the events as stored and the state they fold to.
    struct History<A: Aggregate>: Codable {
        var aggregate: String
        var description: String
        var events: [A.Event]
        var state: A.State?
    }

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Charts.historiesDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix("saga-") }.sorted()  // sagas: SagaHistoryTests
    }()

    static let recording = ProcessInfo.processInfo.environment["CELLAR_RECORD_HISTORIES"] == "1"

    @Test("there are histories for every aggregate")
    func present() throws {
        #expect(Self.files.count >= 5)
        let aggregates = try Self.files.map { try header($0) }
        #expect(Set(aggregates) == ["instance", "backup", "cluster"])
    }

    @Test("each history folds to its stored state", arguments: files)
    func folds(file: String) throws {
        switch try header(file) {
        case "instance": try check(Instance.self, file: file, chart: try Charts.instance)
        case "backup": try check(Backup.self, file: file, chart: try Charts.backup)
        case "cluster": try check(Cluster.self, file: file, chart: try Charts.cluster)
        case let other: Issue.record("\(file): unknown aggregate \(other)")
        }
    }

    @Test("the stored histories end where expected")
    func endings() throws {
        let deleted = try load(Instance.self, "instance-created-active-restarted-deleted.json")
        #expect(Instance.replay(deleted.events, chart: try Charts.instance).phase == .deleted)
        let failed = Instance.replay(try load(Instance.self, "instance-fails-in-prepare.json").events, chart: try Charts.instance)
        #expect(failed.status == "ERROR")
        #expect(failed.fault?.statusBefore == "BUILD")
        let busy = Instance.replay(try load(Instance.self, "instance-config-backup-resize.json").events, chart: try Charts.instance)
        #expect(busy.status == "ACTIVE")
        #expect(busy.operatingStatus == "SHUTDOWN")
        #expect(busy.volumeSize == 5)
        #expect(busy.version == 12)
        let backup = Backup.replay(try load(Backup.self, "backup-completed-deleted.json").events, chart: try Charts.backup)
        #expect(backup.phase == .deleted)
        let cluster = Cluster.replay(try load(Cluster.self, "cluster-grow.json").events, chart: try Charts.cluster)
        #expect(cluster.members.map(\.id) == ["m1", "m2", "m3", "m4"])
        #expect(cluster.task.name == "NONE")
    }

    private func url(_ file: String) -> URL { Charts.historiesDirectory.appendingPathComponent(file) }

    private func header(_ file: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url(file))) as? [String: Any]
        return object?["aggregate"] as? String ?? "?"
    }

    private func load<A: Aggregate>(_ aggregate: A.Type, _ file: String) throws -> History<A> {
        try EventJSON.decoder().decode(History<A>.self, from: Data(contentsOf: url(file)))
    }

    private func check<A: Aggregate>(_ aggregate: A.Type, file: String, chart: Statechart) throws {
        let data = try Data(contentsOf: url(file))
        var history = try EventJSON.decoder().decode(History<A>.self, from: data)
        let folded = A.replay(history.events, chart: chart)
        #expect(folded.unacceptedEvents.isEmpty, "\(file): the chart refused \(folded.unacceptedEvents)")
        #expect(folded.version == history.events.count)
        // The events still encode exactly as stored: a renamed key or case would break old streams.
        let stored = (try JSONSerialization.jsonObject(with: data) as? NSDictionary)?["events"] as? NSArray
        let encoded = try JSONSerialization.jsonObject(with: EventJSON.encoder().encode(history.events)) as? NSArray
        #expect(stored == encoded, "\(file): the events no longer encode as stored")
        if Self.recording {
            history.state = folded
            let encoder = EventJSON.encoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(history).write(to: url(file))
        } else {
            #expect(history.state == folded, "\(file): folds to a different state")
        }
    }
}
