import CellarTestSupport
import EventStore
import Foundation
import LocalServers
import PostgresNIO
import Testing

/// `cellar up` killed with SIGKILL in the middle of a build, of a cluster build and of a failover, started again;
/// stopped with ten instances.
@Suite("cellar up after kill -9 and SIGTERM", .serialized)
struct UpCrashTests {
    @Test(
        "kill -9 during a create: the next start serves at once, finishes the create, leaves nothing open; SIGTERM with ten instances stops every process"
    )
    func killNineThenStopWithTenInstances() async throws {
        let state = StateDirectory(path: "/var/tmp/cellar/tests-crash-\(getpid())")
        defer { UpStack.remove(state) }
        let port = try Loopback.freePort()
        // The task manager runs inside `cellar up`: at this point the whole process dies, as with kill -9.
        let first = try UpStack.start(state, port: port, addressPool: "127.46", crashAt: "prepareDatastore:SagaStepStarted+300")
        defer { CellarProcess.forceCleanUp(first, state: state) }
        try await first.waitUntilHealthy()
        let admin = try await UpStack.signInAsAdmin(port: port, state: state)
        let id = try await admin.createInstance(name: "crash", password: "crash-pass-\(UUID().uuidString.prefix(8))")
        #expect(try await first.waitForExit(timeout: .seconds(120)) == 128 + SIGKILL, "\(first.log)")

        // What the dead process started runs on (like VMs), but holds none of its descriptors.
        let stack = try LocalStack(stateDirectory: state)
        let survivors = ProcessStatus.processes(commandLineContaining: "\(state.url.path)/instances/\(id)")
        #expect(!survivors.isEmpty, "the instance's guest agent outlives the control plane")
        for pid in survivors {
            let inherited = ProcessStatus.tcpSockets(of: pid).filter {
                ($0.listening && $0.localPort == port) || $0.remotePort == stack.postgres.port
            }
            #expect(inherited.isEmpty, "\(pid) (\(ProcessStatus.commandLine(of: pid) ?? "?")) holds \(inherited)")
        }

        let second = try UpStack.start(state, port: port, addressPool: "127.46")
        defer { CellarProcess.forceCleanUp(second, state: state) }
        try await second.waitUntilHealthy(timeout: .seconds(60))
        try await admin.waitFor(id, status: "ACTIVE", operating: "HEALTHY", timeout: .seconds(120))
        try await UpStack.eventually("no saga left open") { try await UpStack.openSagas(stack) == 0 }
        let unconsumed = { try stack.rabbitMQ.queues().filter { $0.messages > 0 && $0.consumers == 0 } }
        try await UpStack.eventually("no message waits in a queue without a consumer") { try unconsumed().isEmpty }
        let waiting = try unconsumed()
        #expect(waiting.isEmpty, "\(waiting)")

        // Ten instances, then a stop: everything this stack started ends, and `cellar up` exits cleanly.
        let more = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 1..<10 { group.addTask { try await admin.createInstance(name: "many-\(index)", password: "many-pass-\(index)") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for other in more { try await admin.waitFor(other, status: "ACTIVE", operating: "HEALTHY", timeout: .seconds(240)) }
        #expect(ProcessStatus.processes(commandLineContaining: "postgres -D \(state.url.path)/instances/").count == 10)
        try await second.terminate(timeout: .seconds(60))
        #expect(second.process.exitCode == 0, "\(second.log)")
        #expect(CellarProcess.serverProcesses(of: stack).isEmpty, "processes left running after SIGTERM")
    }

    @Test("kill -9 during a cluster's build and during its failover: each next start finishes the work, leaves no saga open")
    func killNineDuringClusterWork() async throws {
        let state = StateDirectory(path: "/var/tmp/cellar/tests-crash-cluster-\(getpid())")
        defer { UpStack.remove(state) }
        let port = try Loopback.freePort()
        let start = { (crashAt: String?) in try UpStack.start(state, port: port, addressPool: "127.46", crashAt: crashAt) }
        // Killed while the cluster waits for its members (their builds in flight).
        let building = try start("CreateCluster/awaitMembers:SagaStepStarted+300")
        defer { CellarProcess.forceCleanUp(building, state: state) }
        try await building.waitUntilHealthy()
        let admin = try await UpStack.signInAsAdmin(port: port, state: state)
        let member: [String: Any] = ["flavorRef": "1", "volume": ["size": 1]]
        let created = try await admin.trove(
            "POST", "/clusters",
            [
                "cluster": [
                    "name": "crash", "datastore": ["type": "postgresql", "version": "15"], "instances": [member, member],
                    "extended_properties": ["weights": "100:50"],
                ]
            ])
        let id = try #require((created.json["cluster"] as? [String: Any])?["id"] as? String, "\(created.json)")
        #expect(try await building.waitForExit(timeout: .seconds(120)) == 128 + SIGKILL, "\(building.log)")

        // The next start finishes the build; killed in turn while it promotes the standby of a failover.
        let stack = try LocalStack(stateDirectory: state)
        let failingOver = try start("FailOver/promote:SagaStepStarted")
        defer { CellarProcess.forceCleanUp(failingOver, state: state) }
        try await failingOver.waitUntilHealthy(timeout: .seconds(60))
        let ready = try await admin.waitForClusterTask(id, "NONE")
        let ids = try #require(ready["instances"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        try #require(ids.count == 2)
        try await UpStack.eventually("no saga left open after the build") { try await UpStack.openSagas(stack) == 0 }
        let primary = try await TestDatastore.postgresql.onlyServer(in: state.url.appendingPathComponent("instances/\(ids[0])"))
        kill(primary, SIGKILL)
        #expect(try await failingOver.waitForExit(timeout: .seconds(120)) == 128 + SIGKILL, "\(failingOver.log)")

        // The last start finishes the failover: the standby is primary, the old primary rejoins as its replica.
        let last = try start(nil)
        defer { CellarProcess.forceCleanUp(last, state: state) }
        try await last.waitUntilHealthy(timeout: .seconds(60))
        let roles = try await admin.waitForClusterRoles([ids[1]: "primary", ids[0]: "replica"], cluster: id)
        #expect(roles == [ids[1]: "primary", ids[0]: "replica"])
        try await UpStack.eventually("no saga left open after the failover") { try await UpStack.openSagas(stack) == 0 }
        try await last.terminate(timeout: .seconds(60))
        #expect(last.process.exitCode == 0, "\(last.log)")
        #expect(CellarProcess.serverProcesses(of: stack).isEmpty, "processes left running after SIGTERM")
    }
}

/// Helpers for tests that run a whole `cellar up` stack in a folder of their own.
enum UpStack {
    /// Runs `body` with a healthy `cellar up` in `/var/tmp/cellar/tests-<name>-<pid>` and its admin signed in; stops
    /// and removes everything afterwards, whatever happened.
    static func with(
        name: String, addressPool: String,
        _ body: (StateDirectory, CellarProcess, TroveSession) async throws -> Void
    ) async throws {
        let state = StateDirectory(path: "/var/tmp/cellar/tests-\(name)-\(getpid())")
        defer { remove(state) }
        let up = try CellarProcess.up(stateDirectory: state, environment: environment(addressPool: addressPool))
        defer { CellarProcess.forceCleanUp(up, state: state) }
        try await up.waitUntilHealthy()
        try await body(state, up, try await signInAsAdmin(port: up.port, state: state))
    }

    /// Fast heartbeats, generous rate limits (the tests poll), and an address pool of the test's own.
    static func environment(addressPool: String) -> [String: String] {
        [
            "CELLAR_ADDRESS_POOL": addressPool, "CELLAR_GUEST_HEARTBEAT_INTERVAL": "1", "CELLAR_GUEST_HEARTBEAT_EXPIRY": "5",
            "CELLAR_RATE_LIMITS": "GET=100000,POST=100000,PUT=100000,DELETE=100000,MGMT=100000",
        ]
    }

    /// The admin `cellar up` made, signed in with the credentials it kept in the state folder.
    static func signInAsAdmin(port: Int, state: StateDirectory) async throws -> TroveSession {
        let data = try Data(contentsOf: state.url.appendingPathComponent("admin-credentials.json"))
        let saved = try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
        return try await TroveSession.signIn(apiPort: port, user: "admin", password: try #require(saved["password"]), project: "admin")
    }

    /// Sagas whose stream has not ended.
    static func openSagas(_ stack: LocalStack) async throws -> Int {
        try await TestDatabase.withClient(url: stack.postgres.url) { client in try await openSagas(client) }
    }

    /// Sagas whose stream has not ended, in the database of `client`.
    static func openSagas(_ client: PostgresClient) async throws -> Int {
        let rows = try await client.query(
            """
            SELECT count(*)::int FROM events e
            WHERE e.stream_id LIKE 'saga-%'
              AND e.stream_version = (SELECT max(stream_version) FROM events x WHERE x.stream_id = e.stream_id)
              AND e.event_type NOT IN ('SagaCompleted', 'SagaFailed', 'SagaCancelled')
            """, logger: TestServers.logger)
        var count = 0
        for try await value in rows.decode(Int.self) { count = value }
        return count
    }

    /// Starts `cellar up` on the test's state folder and port; `crashAt` sets `CELLAR_TASKMANAGER_CRASH_AT`.
    static func start(_ state: StateDirectory, port: Int, addressPool: String, crashAt: String? = nil) throws -> CellarProcess {
        try CellarProcess.up(
            stateDirectory: state, port: port,
            environment: environment(addressPool: addressPool)
                .merging(crashAt.map { ["CELLAR_TASKMANAGER_CRASH_AT": $0] } ?? [:]) { $1 })
    }

    /// Waits (up to 30 s) until `condition` holds.
    static func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("not within 30 s: \(what)")
    }

    /// Kills whatever of the stack still runs (instances included) and removes its folder.
    static func remove(_ state: StateDirectory) {
        for pid in ProcessStatus.processes(commandLineContaining: "\(state.url.path)/instances/") { kill(pid, SIGKILL) }
        (try? LocalStack(stateDirectory: state))?.stop()
        for pid in ProcessStatus.processes(commandLineContaining: state.url.path) { kill(pid, SIGKILL) }
        InstanceOSUsers.removeUsers(of: state.url.appendingPathComponent("instances"))
        Thread.sleep(forTimeInterval: 1)
        let instances = state.url.appendingPathComponent("instances").path
        for instanceID in (try? FileManager.default.contentsOfDirectory(atPath: instances)) ?? [] {
            try? FileManager.default.removeItem(atPath: "/tmp/cellar-run/\(instanceID)")
        }
        try? FileManager.default.removeItem(at: state.url)
    }
}
