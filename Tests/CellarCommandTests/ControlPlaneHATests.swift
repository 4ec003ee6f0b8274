import CellarTestSupport
import EventStore
import Foundation
import Testing

/// Several task managers and conductors on one database and broker: a subject's sagas run under one task
/// manager's lease, a newcomer leaves running sagas alone, and a killed one's sagas are taken over once its
/// lease expires.
@Suite("several task managers and conductors at once, with real guests", .serialized, .tags(.postgres, .rabbitMQ))
struct ControlPlaneHATests {
    static let creates = 10

    @Test("a task manager started during ten builds takes none of them over: every step of every saga runs once")
    func newcomerLeavesRunningSagasAlone() async throws {
        try await ControlPlane.with { plane in
            var ids: [String] = []
            for index in 0..<Self.creates { ids.append(try await plane.createInstance(name: "ha-\(index)")) }
            try await Task.sleep(for: .milliseconds(500))
            try plane.startAnother("taskmanager", named: "taskmanager-b")
            for id in ids { try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY", timeout: .seconds(120)) }
            for id in ids {
                for saga in try await plane.sagas(of: id) {
                    let starts = saga.filter { $0.type == "SagaStepStarted" }.compactMap { Self.step(of: $0) }
                    #expect(starts.count == Set(starts).count, "a step ran twice in \(saga.first?.streamID ?? ""): \(starts)")
                }
            }
        }
    }

    @Test(
        "kill -9 of one of two task managers (and of one of two conductors) during ten builds: all ten ACTIVE, steps repeated only where the killed one was"
    )
    func survivorsTakeOver() async throws {
        try await ControlPlane.with { plane in
            try plane.startAnother("taskmanager", named: "taskmanager-b")
            try plane.startAnother("conductor", named: "conductor-b")
            try await Task.sleep(for: .seconds(1))
            var ids: [String] = []
            for index in 0..<Self.creates { ids.append(try await plane.createInstance(name: "ha-\(index)")) }
            try await Task.sleep(for: .milliseconds(800))
            plane.killProcess("taskmanager")
            plane.killProcess("conductor")
            for id in ids { try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY", timeout: .seconds(120)) }
            for id in ids {
                for saga in try await plane.sagas(of: id) {
                    let starts = saga.filter { $0.type == "SagaStepStarted" }.compactMap { Self.step(of: $0) }
                    let counts = Dictionary(starts.map { ($0, 1) }, uniquingKeysWith: +)
                    // The step in flight when its owner died runs again under the survivor; no other step does.
                    #expect(counts.values.filter { $0 > 1 }.count <= 1 && counts.values.allSatisfy { $0 <= 2 }, "\(starts)")
                }
            }
            let leases = try await plane.database.client.query("SELECT count(*)::int FROM saga_leases", logger: TestServers.logger)
                .collect().first?.decode(Int.self)
            #expect(leases == 0, "a finished subject's lease is given up")
        }
    }

    static func step(of event: RecordedEvent) -> String? {
        (try? JSONSerialization.jsonObject(with: event.data) as? [String: Any])?["step"] as? String
    }
}
