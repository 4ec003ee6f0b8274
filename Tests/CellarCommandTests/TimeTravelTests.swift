import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import Testing

/// `?as_of=` against a real instance's history (create, a database, a restart, delete), the history with its
/// saga steps, and the figures the guest reports for the console's plots.
@Suite("time travel and figures with a real guest", .serialized, .tags(.postgres, .rabbitMQ))
struct TimeTravelTests {
    static let chart = try! StatechartLibrary.load(directory: TestServers.projectRoot.appendingPathComponent("statecharts")).instance

    @Test("as_of at every event equals the fold of the log up to there; between events, by time, before creation and after deletion")
    func instanceAsOf() async throws {
        try await ControlPlane.with { plane in
            let (id, _) = try await plane.createActiveInstance()
            let added = try await plane.trove("POST", "/instances/\(id)/databases", ["databases": [["name": "extra"]]])
            #expect(added.status == 202, "\(added.json)")
            try await Self.waitForEvent("GuestChangeApplied", of: id, plane)
            let restart = try await plane.trove("POST", "/instances/\(id)/action", ["restart": [String: Any]()])
            #expect(restart.status == 202, "\(restart.json)")
            try await Self.waitForEvent("InstanceRestarted", of: id, plane)
            try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")

            // Now: the past at the newest event is the present, key for key.
            var events = try await plane.events("instance-\(id)")
            let live = try #require(try await plane.instance(id))
            let newest = try await Self.asOf(String(events.last!.globalPosition), id, plane)
            #expect(newest.status == 200)
            #expect(
                NSDictionary(dictionary: newest.json["instance"] as? [String: Any] ?? [:]) == NSDictionary(dictionary: live),
                "as_of the newest event differs from the live answer:\n\(newest.json)\n\(live)")

            try await Self.expectEveryPositionFolds(events, id, plane)

            // Before creation: 404. By time: the first event's time shows the instance being built.
            #expect(try await Self.asOf(String(events.first!.globalPosition - 1), id, plane).status == 404)
            // (A millisecond later: the text keeps milliseconds, the log microseconds.)
            let firstTime = events.first!.recordedAt.addingTimeInterval(0.001)
            let created = try await Self.asOf(Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(firstTime), id, plane)
            #expect(created.status == 200 && (created.json["instance"] as? [String: Any])?["status"] as? String == "BUILD", "\(created.json)")
            let badPoint = try await Self.asOf("yesterday", id, plane)
            #expect(badPoint.status == 400 && "\(badPoint.json)".contains("as_of"), "\(badPoint.json)")

            // After deletion the past is still there, and the present is 404.
            #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202)
            try await plane.waitUntilGone(id)
            events = try await plane.events("instance-\(id)")
            let gone = try await Self.asOf(String(events.last!.globalPosition), id, plane)
            #expect(gone.status == 404 && "\(gone.json)".contains("deleted"), "\(gone.json)")
            try await Self.expectEveryPositionFolds(events, id, plane)
        }
    }

    @Test("the history with include=sagas interleaves the create saga's steps; the guest's figures become samples with a rate")
    func historyAndFigures() async throws {
        try await ControlPlane.with { plane in
            let (id, _) = try await plane.createActiveInstance()
            let history = try await plane.trove("GET", "/instances/\(id)/events?include=sagas&limit=1000")
            let events = try #require(history.json["events"] as? [[String: Any]])
            let types = events.compactMap { $0["type"] as? String }
            #expect(types.first == "InstanceCreateRequested")
            #expect(types.contains("SagaStarted") && types.contains("SagaStepSucceeded") && types.contains("SagaCompleted"))
            let positions = events.compactMap { $0["position"] as? Int }
            #expect(positions == positions.sorted(), "not in log order")
            let plain = try await plane.trove("GET", "/instances/\(id)/events?limit=1000")
            #expect((plain.json["events"] as? [[String: Any]])?.allSatisfy { ($0["stream"] as? String) == "instance-\(id)" } == true)

            // Heartbeats come every second; a sample of each figure is kept every 4 s: a rate needs two. The guest
            // measures its data directory every 10 s.
            let deadline = ContinuousClock.now + .seconds(45)
            var samples: [[String: Any]] = []
            while ContinuousClock.now < deadline {
                let metrics = try await plane.trove("GET", "/instances/\(id)/metrics?minutes=5")
                samples = ((metrics.json["metrics"] as? [String: Any])?["samples"] as? [[String: Any]]) ?? []
                if samples.contains(where: { $0["transactions_per_second"] is NSNumber }),
                    samples.contains(where: { ($0["volume_used_bytes"] as? Int ?? 0) > 1_000_000 })
                {
                    break
                }
                try await Task.sleep(for: .seconds(1))
            }
            #expect(samples.contains { $0["transactions_per_second"] is NSNumber }, "no rate in \(samples)")
            #expect(samples.contains { ($0["volume_used_bytes"] as? Int ?? 0) > 1_000_000 }, "no data size in \(samples)")
            #expect(samples.contains { $0["connections"] is NSNumber }, "no sessions in \(samples)")
            #expect(try await plane.trove("GET", "/instances/\(id)/metrics?minutes=61").status == 400)
            #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202)
            try await plane.waitUntilGone(id)
        }
    }

    /// At each of the stream's events and just after it (a position that may belong to another stream), the
    /// answer is the fold of the stream up to there: same status, operating status, statechart state, name,
    /// flavor and size; 404 once the fold is deleted.
    static func expectEveryPositionFolds(_ events: [RecordedEvent], _ id: String, _ plane: ControlPlane) async throws {
        for (index, event) in events.enumerated() {
            let folded = Instance.replay(events[...index].compactMap { try? Instance.Event.decode(eventType: $0.type, data: $0.data) }, chart: chart)
            let nextOwn = index + 1 < events.count ? events[index + 1].globalPosition : Int64.max
            for position in Set([event.globalPosition, min(event.globalPosition + 1, nextOwn - 1)]).sorted() {
                let answer = try await asOf(String(position), id, plane)
                if chart.isFinal(folded.leaf) {
                    #expect(answer.status == 404, "at \(position) (\(event.type)) the instance was deleted: \(answer.json)")
                    continue
                }
                let instance = try #require(
                    answer.json["instance"] as? [String: Any], "at \(position) (\(event.type)): \(answer.status) \(answer.json)")
                #expect(instance["status"] as? String == folded.status, "at \(position) after \(event.type)")
                #expect(instance["operating_status"] as? String == folded.operatingStatus, "at \(position) after \(event.type)")
                #expect(instance["lifecycle_state"] as? String == folded.leaf, "at \(position) after \(event.type)")
                #expect(instance["name"] as? String == folded.name)
                #expect((instance["flavor"] as? [String: Any])?["id"] as? String == folded.flavorId)
                #expect((instance["volume"] as? [String: Any])?["size"] as? Int == folded.volumeSize)
            }
        }
    }

    static func asOf(_ point: String, _ id: String, _ plane: ControlPlane) async throws -> (status: Int, json: [String: Any]) {
        try await plane.trove("GET", "/instances/\(id)?as_of=\(point.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? point)")
    }

    static func waitForEvent(_ type: String, of id: String, _ plane: ControlPlane, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await plane.events("instance-\(id)").contains(where: { $0.type == type }) { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure("no \(type) on instance-\(id) within \(timeout)")
    }
}
