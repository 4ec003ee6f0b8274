import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import LocalServers
import Testing

/// The control plane around instances, on PostgreSQL: task manager crashes, lost guest agents, refused builds,
/// many builds at once, a delete during a build. What every datastore does is `InstanceBehaviourTests`.
@Suite("instance lifecycle with real guests", .serialized, .tags(.postgres, .rabbitMQ))
struct InstanceLifecycleTests {
    @Test("kill -9 of the task manager right after compute allocation: the restarted one finishes with one server")
    func crashAfterAllocation() async throws {
        try await ControlPlane.with { plane in
            let id = try await Self.createThroughCrash(at: "allocateCompute:SagaStepSucceeded", plane)
            let sagas = try await plane.sagas(of: id)
            #expect(sagas.count == 1)
            #expect(sagas.first?.last?.type == "SagaCompleted")
            try await Self.deleteAndWait(id, plane)
        }
    }

    @Test("a killed guest agent: unhealthy within the heartbeat expiry, HEALTHY again once the agent is back")
    func guestAgentKilled() async throws {
        // No periodic revival here: the agent comes back exactly when the test restarts the task manager.
        try await ControlPlane.with(reviveInterval: 3600) { plane in
            let id = try await plane.createInstance()
            try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            let agent = try #require(plane.guestAgents(of: id).first)
            kill(agent, SIGKILL)
            try await plane.waitFor(id, status: "ACTIVE", operating: "ERROR", timeout: .seconds(ControlPlane.heartbeatExpiry + 5))
            // A starting task manager starts dead guest agents again (as it does every CELLAR_COMPUTE_REVIVE_INTERVAL).
            try plane.startTaskManager(reviveInterval: 3600)
            try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY", timeout: .seconds(30))
            #expect(plane.guestAgents(of: id).count == 1)
            #expect(TestDatastore.postgresql.servers(in: plane.folder(of: id)).count == 1, "the datastore kept running without its agent")
            let types = try await plane.events("instance-\(id)").map(\.type)
            #expect(types.suffix(2) == ["GuestBecameUnhealthy", "GuestBecameHealthy"])
            try await Self.deleteAndWait(id, plane)
        }
    }

    @Test("a prepare the guest refuses (an invalid database name) ends in ERROR with the reason; the server is removed")
    func failedPrepare() async throws {
        try await ControlPlane.with { plane in
            // The API refuses such a name, so the request is written to the log directly, as a bug or an old
            // client might: the guest must refuse it on its own.
            let id = UUID().uuidString.lowercased()
            let spec = Instance.Spec(
                id: id, projectId: plane.projectID, name: "bad", flavorId: "1", volumeSize: 1,
                datastore: Datastore(type: "postgresql", version: "15"),
                databases: [Instance.DatabaseSpec(name: "bad name; DROP", characterSet: nil, collate: nil)],
                users: [], configurationId: nil, replicaOf: nil, createdAt: Date())
            let event = Instance.Event.instanceCreateRequested(spec)
            _ = try await plane.database.eventStore().append(
                to: "instance-\(id)", expectedVersion: .noStream,
                events: [
                    NewEvent(
                        type: event.eventType, data: try event.encodedData(),
                        metadata: try JSONEncoder().encode(EventMetadata(service: "test", requestID: "req-bad")))
                ])
            let failed = try await plane.waitFor(id, status: "ERROR")
            let fault = try #require(failed["fault"] as? [String: Any])
            let message = try #require(fault["message"] as? String)
            #expect(message.contains("InvalidDatabaseName"), "\(message)")
            #expect(plane.guestAgents(of: id).isEmpty)
            #expect(TestDatastore.postgresql.servers(in: plane.folder(of: id)).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: plane.folder(of: id).path))
            let saga = try #require(try await plane.sagas(of: id).first).map(\.type)
            #expect(saga.contains("SagaCompensationSucceeded"))
            #expect(saga.last == "SagaFailed")
            try await Self.deleteAndWait(id, plane)
        }
    }

    @Test("ten instances created at once all reach ACTIVE, each on its own address")
    func tenAtOnce() async throws {
        try await ControlPlane.with { plane in
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<10 { group.addTask { try await plane.createInstance(name: "many-\(index)") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            var addresses: Set<String> = []
            for id in ids {
                let active = try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY", timeout: .seconds(180))
                addresses.insert(try #require((active["ip"] as? [String])?.first))
                #expect(TestDatastore.postgresql.servers(in: plane.folder(of: id)).count == 1)
            }
            #expect(addresses.count == 10)
            for id in ids { #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202) }
            for id in ids { try await plane.waitUntilGone(id) }
        }
    }

    @Test("deleting an instance during BUILD cancels the build saga and removes what it had started")
    func deleteDuringBuild() async throws {
        try await ControlPlane.with { plane in
            try plane.startTaskManager(crashAt: "recordCompute:SagaStepSucceeded")
            let id = try await plane.createInstance()
            try await Self.waitForExit(of: plane)
            // The server runs but the build is stuck (no task manager): delete now, then let a task manager in.
            #expect(try await plane.instance(id)?["status"] as? String == "BUILD")
            let delete = try await plane.trove("DELETE", "/instances/\(id)")
            #expect(delete.status == 202, "\(delete.json)")
            try plane.startTaskManager()
            try await plane.waitUntilGone(id)
            #expect(plane.guestAgents(of: id).isEmpty)
            #expect(TestDatastore.postgresql.servers(in: plane.folder(of: id)).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: plane.folder(of: id).path))
            let sagas = try await plane.sagas(of: id).map { $0.last?.type }
            #expect(sagas == ["SagaCancelled", "SagaCompleted"])
        }
    }

    @Test("deleted while its server was started but not yet recorded: the build ends cancelled, the delete removes the server")
    func deleteBeforeServerRecorded() async throws {
        try await ControlPlane.with { plane in
            try plane.startTaskManager(crashAt: "allocateCompute:SagaStepSucceeded")
            let id = try await plane.createInstance()
            try await Self.waitForExit(of: plane)
            #expect(plane.guestAgents(of: id).count == 1, "the server runs, known only to the build saga's result")
            // No server on record: the instance is gone at once; the sagas end once a task manager runs them.
            #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202)
            try await plane.waitUntilGone(id)
            try plane.startTaskManager()
            var sagas: [String?] = []
            let deadline = ContinuousClock.now + .seconds(60)
            repeat {
                sagas = try await plane.sagas(of: id).map { $0.last?.type }
                if sagas == ["SagaCancelled", "SagaCompleted"] { break }
                try await Task.sleep(for: .milliseconds(100))
            } while ContinuousClock.now < deadline
            #expect(sagas == ["SagaCancelled", "SagaCompleted"])
            #expect(plane.guestAgents(of: id).isEmpty)
            #expect(TestDatastore.postgresql.servers(in: plane.folder(of: id)).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: plane.folder(of: id).path))
        }
    }

    /// Creates an instance with a task manager that crashes at `point`, starts a new one, and checks the
    /// instance becomes ACTIVE with exactly one guest agent and one server.
    static func createThroughCrash(at point: String, _ plane: ControlPlane) async throws -> String {
        try plane.startTaskManager(crashAt: point)
        let id = try await plane.createInstance()
        try await waitForExit(of: plane)
        try plane.startTaskManager()
        try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
        #expect(plane.guestAgents(of: id).count == 1)
        #expect(TestDatastore.postgresql.servers(in: plane.folder(of: id)).count == 1)
        return id
    }

    static func waitForExit(of plane: ControlPlane) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while plane.taskManager?.isRunning == true && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        try #require(plane.taskManager?.isRunning == false, "the task manager did not crash where told")
    }

    static func deleteAndWait(_ id: String, _ plane: ControlPlane) async throws {
        #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202)
        try await plane.waitUntilGone(id)
        #expect(plane.guestAgents(of: id).isEmpty)
    }
}
