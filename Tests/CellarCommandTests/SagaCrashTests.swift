import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import Testing

/// `kill -9` of the task manager at every point an instance saga records (each step's start and success), for
/// create, restart and delete: the restarted task manager finishes the work, and the instance's own history is the
/// one a run without a crash writes.
@Suite("the task manager killed at every step of the instance sagas", .serialized, .tags(.postgres, .rabbitMQ))
struct SagaCrashTests {
    /// Every point a saga of `program` records: each step's start and success.
    static func crashPoints<Program: SagaProgram>(_ program: Program.Type) -> [String] {
        Program.Step.allCases.flatMap { ["\($0.rawValue):SagaStepStarted", "\($0.rawValue):SagaStepSucceeded"] }
    }

    @Test("create, restart and delete, each killed at every step: the same history as without a crash, no saga open")
    func everyInstanceStep() async throws {
        let creates = Self.crashPoints(Saga.CreateInstance.self)
        let restarts = Self.crashPoints(Saga.RestartInstance.self)
        let deletes = Self.crashPoints(Saga.DeleteInstance.self)
        // No periodic revival: servers come back only when a starting task manager looks for stopped ones.
        try await ControlPlane.with(reviveInterval: 3600) { plane in
            let reference = try await Self.lifecycle(plane, crashAt: (nil, nil, nil))
            #expect(reference.contains("InstanceDeleted"), "\(reference)")
            for index in creates.indices {
                let points = (creates[index], restarts[index % restarts.count], deletes[index % deletes.count])
                let history = try await Self.lifecycle(plane, crashAt: points)
                #expect(history == reference, "killed at \(points)")
            }
            try await ClusterSagaCrashTests.expectNoOpenSaga(plane)
        }
    }

    /// Creates an instance, restarts it and deletes it, the task manager killed at the given point of each saga
    /// (nil: not killed) and started again; returns the instance's history (event types, heartbeat-driven health
    /// changes left out: they depend on timing, not on the sagas).
    static func lifecycle(_ plane: ControlPlane, crashAt points: (create: String?, restart: String?, delete: String?)) async throws -> [String] {
        try plane.startTaskManager(crashAt: points.create, reviveInterval: 3600)
        let id = try await plane.createInstance()
        try await survive(points.create, plane)
        try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
        try await expectOneServer(id, plane, after: points.create)

        try plane.startTaskManager(crashAt: points.restart, reviveInterval: 3600)
        #expect(try await plane.trove("POST", "/instances/\(id)/action", ["restart": [:] as [String: Any]]).status == 202)
        try await survive(points.restart, plane)
        try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
        try await expectOneServer(id, plane, after: points.restart)

        try plane.startTaskManager(crashAt: points.delete, reviveInterval: 3600)
        #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202)
        try await survive(points.delete, plane)
        try await plane.waitUntilGone(id)
        #expect(plane.guestAgents(of: id).isEmpty, "killed at \(points.delete ?? "-")")
        #expect(TestDatastore.postgresql.servers(in: plane.folder(of: id)).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: plane.folder(of: id).path))

        // Killed after the last step's success, the instance is gone before the restarted task manager records the
        // saga's completion.
        var sagas = try await plane.sagas(of: id)
        let deadline = ContinuousClock.now + .seconds(30)
        while !sagas.allSatisfy({ $0.last?.type == "SagaCompleted" }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            sagas = try await plane.sagas(of: id)
        }
        #expect(sagas.map { $0.first.flatMap(Self.sagaName) } == ["CreateInstance", "RestartInstance", "DeleteInstance"], "\(points)")
        #expect(sagas.allSatisfy { $0.last?.type == "SagaCompleted" }, "\(points)")
        return try await plane.events("instance-\(id)").map(\.type).filter { !$0.hasPrefix("GuestBecame") }
    }

    /// With a crash point: waits until the task manager killed itself there, then starts it again.
    static func survive(_ point: String?, _ plane: ControlPlane) async throws {
        guard point != nil else { return }
        try await InstanceLifecycleTests.waitForExit(of: plane)
        try plane.startTaskManager(reviveInterval: 3600)
    }

    /// One guest agent and one datastore server for the instance, once any restart under way has finished (a
    /// server being restarted shows two processes for a moment; a doubled build would keep two).
    static func expectOneServer(_ id: String, _ plane: ControlPlane, after point: String?) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        var counts = (agents: 0, servers: 0)
        while ContinuousClock.now < deadline {
            counts = (plane.guestAgents(of: id).count, TestDatastore.postgresql.servers(in: plane.folder(of: id)).count)
            if counts == (1, 1) { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("killed at \(point ?? "-"): \(counts.agents) guest agents and \(counts.servers) servers for \(id)")
    }

    static func sagaName(_ started: RecordedEvent) -> String? {
        guard case .sagaStarted(let start) = try? Saga.Event.decode(eventType: started.type, data: started.data) else { return nil }
        return start.saga
    }
}
