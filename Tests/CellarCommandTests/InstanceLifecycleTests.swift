import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import LocalServers
import Testing

/// Instances made real: the task manager's sagas, the process compute driver, guest agents managing real
/// PostgreSQL servers, the conductor turning heartbeats into events. Each test runs the control plane as
/// separate processes (see `ControlPlane`).
@Suite("instance lifecycle with real guests", .serialized, .tags(.postgres, .rabbitMQ))
struct InstanceLifecycleTests {
    @Test("create → ACTIVE, psql as the user, restart keeps the data, delete removes process and folder, the log tells it all")
    func createConnectRestartDelete() async throws {
        try await ControlPlane.with { plane in
            let (id, address) = try await plane.createActiveInstance()

            let created = try plane.psql(address, user: "app", password: "correct-horse-battery", database: "orders",
                                         "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7); SELECT n FROM kept")
            #expect(created.status == 0 && created.output.contains("7"), "\(created.output)")
            // The user was granted `orders` only; PUBLIC's default CONNECT does not leak `billing`.
            let billing = try plane.psql(address, user: "app", password: "correct-horse-battery", database: "billing", "SELECT 1")
            #expect(billing.status != 0 && billing.output.contains("CONNECT"), "\(billing.output)")
            let wrongPassword = try plane.psql(address, user: "app", password: "nope", database: "orders", "SELECT 1")
            #expect(wrongPassword.status != 0)

            let restart = try await plane.trove("POST", "/instances/\(id)/action", ["restart": [:]])
            #expect(restart.status == 202, "\(restart.json)")
            try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            let kept = try plane.psql(address, user: "app", password: "correct-horse-battery", database: "orders", "SELECT n FROM kept")
            #expect(kept.output.trimmingCharacters(in: .whitespacesAndNewlines) == "7", "\(kept.output)")
            let postmasters = plane.postmasters(of: id)
            #expect(postmasters.count == 1)

            let delete = try await plane.trove("DELETE", "/instances/\(id)")
            #expect(delete.status == 202, "\(delete.json)")
            try await plane.waitUntilGone(id)
            #expect(plane.guestAgents(of: id).isEmpty)
            #expect(postmasters.allSatisfy { !ProcessStatus.isAlive(pid: $0) }, "the datastore server outlived the delete")
            #expect(!FileManager.default.fileExists(atPath: plane.folder(of: id).path), "the instance folder outlived the delete")

            let stream = try await plane.events("instance-\(id)")
            #expect(stream.map(\.type) == [
                "InstanceCreateRequested", "ComputeAllocated", "GuestRegistered", "InstanceBecameActive",
                "RestartRequested", "InstanceRestarted", "DeleteRequested", "InstanceDeleted",
            ])
            let metadata = stream.compactMap(\.decodedMetadata)
            #expect(metadata.count == stream.count)
            #expect(metadata.allSatisfy { $0.actor != nil || $0.service != nil }, "every event names who caused it")
            let createRequest = try #require(metadata.first?.requestID)
            #expect(metadata[1].service == "taskmanager" && metadata[1].requestID == createRequest)
            #expect(metadata[2].service == "conductor")
            #expect(metadata[3].requestID == createRequest)
            let sagas = try await plane.sagas(of: id)
            #expect(sagas.map { $0.last?.type } == ["SagaCompleted", "SagaCompleted", "SagaCompleted"])
            #expect(sagas.first?.map(\.type) == [
                "SagaStarted",
                "SagaStepStarted", "SagaStepSucceeded", "SagaStepStarted", "SagaStepSucceeded",
                "SagaStepStarted", "SagaStepSucceeded", "SagaStepStarted", "SagaStepSucceeded",
                "SagaCompleted",
            ])
            // No password anywhere in the log.
            let everything = try await plane.database.eventStore().readAll(after: .start, limit: 10_000)
            #expect(!everything.contains { String(decoding: $0.data, as: UTF8.self).contains("correct-horse-battery") })
        }
    }

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

    @Test("kill -9 of the task manager while the guest prepares: prepare runs again idempotently, one server")
    func crashDuringPrepare() async throws {
        try await ControlPlane.with { plane in
            let id = try await Self.createThroughCrash(at: "prepareDatastore:SagaStepStarted+150", plane)
            let saga = try #require(try await plane.sagas(of: id).first)
            let prepareAttempts = saga.filter { $0.type == "SagaStepStarted" && String(decoding: $0.data, as: UTF8.self).contains("prepareDatastore") }
            #expect(prepareAttempts.count == 2, "prepare was started once before the crash and once after")
            let address = try #require((try await plane.instance(id)?["ip"] as? [String])?.first)
            let login = try plane.psql(address, user: "app", password: "correct-horse-battery", database: "orders", "SELECT 1")
            #expect(login.status == 0, "\(login.output)")
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
            #expect(plane.postmasters(of: id).count == 1, "the datastore kept running without its agent")
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
            _ = try await plane.database.eventStore().append(to: "instance-\(id)", expectedVersion: .noStream, events: [
                NewEvent(type: event.eventType, data: try event.encodedData(),
                         metadata: try JSONEncoder().encode(EventMetadata(service: "test", requestID: "req-bad"))),
            ])
            let failed = try await plane.waitFor(id, status: "ERROR")
            let fault = try #require(failed["fault"] as? [String: Any])
            let message = try #require(fault["message"] as? String)
            #expect(message.contains("InvalidDatabaseName"), "\(message)")
            #expect(plane.guestAgents(of: id).isEmpty)
            #expect(plane.postmasters(of: id).isEmpty)
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
                #expect(plane.postmasters(of: id).count == 1)
            }
            #expect(addresses.count == 10)
            for id in ids { #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202) }
            for id in ids { try await plane.waitUntilGone(id) }
        }
    }

    @Test("deleting an instance during BUILD cancels the build saga and removes what it had started")
    func deleteDuringBuild() async throws {
        try await ControlPlane.with { plane in
            try plane.startTaskManager(crashAt: "allocateCompute:SagaStepSucceeded")
            let id = try await plane.createInstance()
            try await Self.waitForExit(of: plane)
            // The server runs but the build is stuck (no task manager): delete now, then let a task manager in.
            #expect(try await plane.instance(id)?["status"] as? String == "BUILD")
            let delete = try await plane.trove("DELETE", "/instances/\(id)")
            #expect(delete.status == 202, "\(delete.json)")
            try plane.startTaskManager()
            try await plane.waitUntilGone(id)
            #expect(plane.guestAgents(of: id).isEmpty)
            #expect(plane.postmasters(of: id).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: plane.folder(of: id).path))
            let sagas = try await plane.sagas(of: id).map { $0.last?.type }
            #expect(sagas == ["SagaCancelled", "SagaCompleted"])
        }
    }

    @Test("databases, users, grants, passwords and root change on the running server before the 202 returns")
    func databasesUsersAndRoot() async throws {
        try await ControlPlane.with { plane in
            let (id, address) = try await plane.createActiveInstance()
            func login(_ user: String, _ password: String, _ database: String) throws -> Int32 {
                try plane.psql(address, user: user, password: password, database: database, "SELECT 1").status
            }

            #expect(try await plane.trove("POST", "/instances/\(id)/databases", ["databases": [["name": "extra"]]]).status == 202)
            let databases = try await plane.trove("GET", "/instances/\(id)/databases").json["databases"] as? [[String: Any]]
            #expect(Set(databases?.compactMap { $0["name"] as? String } ?? []) == ["orders", "billing", "extra"])
            let duplicate = try await plane.trove("POST", "/instances/\(id)/databases", ["databases": [["name": "extra"]]])
            #expect(duplicate.status == 400, "\(duplicate.json)")

            let bob = try await plane.trove("POST", "/instances/\(id)/users", ["users": [
                ["name": "bob", "password": "bob-first-pass", "databases": [["name": "extra"]]],
            ]])
            #expect(bob.status == 202, "\(bob.json)")
            #expect(try login("bob", "bob-first-pass", "extra") == 0)
            #expect(try login("bob", "bob-first-pass", "orders") != 0, "bob was granted extra only")

            #expect(try await plane.trove("DELETE", "/instances/\(id)/users/bob/databases/extra").status == 202)
            #expect(try login("bob", "bob-first-pass", "extra") != 0, "revoked access still works")
            let users = try await plane.trove("GET", "/instances/\(id)/users/bob").json["user"] as? [String: Any]
            #expect((users?["databases"] as? [[String: Any]])?.isEmpty == true)
            #expect(try await plane.trove("PUT", "/instances/\(id)/users/bob/databases", ["databases": [["name": "extra"]]]).status == 202)
            #expect(try login("bob", "bob-first-pass", "extra") == 0)

            #expect(try await plane.trove("PUT", "/instances/\(id)/users", ["users": [["name": "bob", "password": "bob-second-pass"]]]).status == 202)
            #expect(try login("bob", "bob-first-pass", "extra") != 0)
            #expect(try login("bob", "bob-second-pass", "extra") == 0)
            #expect(try await plane.trove("PUT", "/instances/\(id)/users", ["users": [["name": "nobody", "password": "x"]]]).status == 404)

            #expect(try await plane.trove("DELETE", "/instances/\(id)/users/bob").status == 202)
            #expect(try login("bob", "bob-second-pass", "extra") != 0)
            #expect(try await plane.trove("DELETE", "/instances/\(id)/databases/extra").status == 202)
            #expect(try plane.psql(address, user: "app", password: "correct-horse-battery", database: "orders",
                                   "SELECT count(*) FROM pg_database WHERE datname = 'extra'").output.contains("0"))

            #expect(try await plane.trove("GET", "/instances/\(id)/root").json["rootEnabled"] as? Bool == false)
            #expect(try await plane.trove("DELETE", "/instances/\(id)/root").status == 404, "root was never enabled")
            let root = try await plane.trove("POST", "/instances/\(id)/root")
            let password = try #require((root.json["user"] as? [String: Any])?["password"] as? String, "\(root.json)")
            #expect(try plane.psql(address, user: "root", password: password, database: "postgres", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").output.contains("t"))
            #expect(try await plane.trove("GET", "/instances/\(id)/root").json["rootEnabled"] as? Bool == true)
            #expect(try await plane.trove("DELETE", "/instances/\(id)/root").status == 204)
            #expect(try plane.psql(address, user: "root", password: password, database: "postgres", "SELECT 1").status != 0,
                    "root still logs in after disable")
            #expect(try await plane.trove("GET", "/instances/\(id)/root").json["rootEnabled"] as? Bool == false)

            let everything = try await plane.database.eventStore().readAll(after: .start, limit: 10_000)
            for secret in ["bob-first-pass", "bob-second-pass", password] {
                #expect(!everything.contains { String(decoding: $0.data, as: UTF8.self).contains(secret) }, "a password reached the log")
            }
            try await Self.deleteAndWait(id, plane)
        }
    }

    @Test("resize flavor restarts with the new memory settings; resize volume records the new size; both back to ACTIVE")
    func resizes() async throws {
        try await ControlPlane.with { plane in
            let (id, address) = try await plane.createActiveInstance()
            func sharedBuffers() throws -> String {
                try plane.psql(address, user: "app", password: "correct-horse-battery", database: "orders", "SHOW shared_buffers")
                    .output.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect(try sharedBuffers() == "64MB", "a quarter of db.tiny's 256 MB")

            let flavor = try await plane.trove("POST", "/instances/\(id)/action", ["resize": ["flavorRef": "3"]])
            #expect(flavor.status == 202, "\(flavor.json)")
            let resized = try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect((resized["flavor"] as? [String: Any])?["id"] as? String == "3")
            #expect(try sharedBuffers() == "256MB", "a quarter of db.medium's 1024 MB")

            let volume = try await plane.trove("POST", "/instances/\(id)/action", ["resize": ["volume": ["size": 2]]])
            #expect(volume.status == 202, "\(volume.json)")
            let grown = try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect((grown["volume"] as? [String: Any])?["size"] as? Int == 2)
            let types = try await plane.events("instance-\(id)").map(\.type)
            #expect(types.contains("FlavorResized") && types.contains("VolumeResized"))
            try await Self.deleteAndWait(id, plane)
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
        #expect(plane.postmasters(of: id).count == 1)
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
