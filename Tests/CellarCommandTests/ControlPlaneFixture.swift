import Bus
import CellarTestSupport
import EventStore
import Foundation
import LocalServers
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The whole control plane as separate processes, as an operator would run it: `cellar api`, `cellar conductor`
/// and `cellar taskmanager` against the test servers (a fresh database; the task manager's and conductor's queues
/// emptied first), with real guest agents and PostgreSQL servers under a folder of the test's own.
final class ControlPlane: @unchecked Sendable {
    let database: TestDatabase
    let amqpURL: String
    /// The broker's management API: guests get broker users of their own, as under `cellar up`.
    let managementURL: String?
    let folder: URL
    let apiPort: Int
    /// The private OpenStack Swift the task manager keeps backups in.
    let backupStoreURL: String
    private(set) var processes: [String: (process: ChildProcess, log: URL)] = [:]
    /// `carol`, a member of project `cp`.
    private(set) var member: TroveSession!
    /// `ada`, an admin of the same project (for the mgmt routes).
    private(set) var admin: TroveSession!
    var token: String { member.token }
    var projectID: String { member.projectID }

    /// Seconds between guest heartbeats, and after which a silent guest is unhealthy.
    static let heartbeatInterval = 1.0
    static let heartbeatExpiry = 3.0

    var instancesDirectory: URL { folder.appendingPathComponent("instances") }

    private init(database: TestDatabase, amqpURL: String, managementURL: String?, folder: URL, apiPort: Int, backupStoreURL: String) {
        self.backupStoreURL = backupStoreURL
        self.database = database
        self.amqpURL = amqpURL
        self.managementURL = managementURL
        self.folder = folder
        self.apiPort = apiPort
    }

    /// Runs `body` with a started control plane; stops every process and removes every instance afterwards.
    static func with(reviveInterval: Double = 30, _ body: @Sendable (ControlPlane) async throws -> Void) async throws {
        let amqpURL = try await TestServers.amqpURL()
        try await TestDatabase.with { database in
            let folder = URL(fileURLWithPath: "/var/tmp/cellar/tests-cp-\(getpid())-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            let plane = ControlPlane(
                database: database, amqpURL: amqpURL, managementURL: try await TestServers.amqpManagementURL(),
                folder: folder, apiPort: try Loopback.freePort(), backupStoreURL: try await TestServers.objectStoreURL())
            defer { plane.tearDown() }
            try await plane.emptySharedQueues()
            try plane.start("api", ["api", "--port", "\(plane.apiPort)"])
            try plane.start("conductor", ["conductor"])
            try plane.startTaskManager(reviveInterval: reviveInterval)
            try await plane.signIn()
            do {
                try await body(plane)
            } catch {
                plane.printLogs()
                throw error
            }
        }
    }

    /// (Re)starts the task manager (one that still runs is killed first); `crashAt` sets `CELLAR_TASKMANAGER_CRASH_AT`.
    func startTaskManager(crashAt: String? = nil, reviveInterval: Double = 30) throws {
        if let running = taskManager, running.isRunning {
            running.send(SIGKILL)
            while running.isRunning { Thread.sleep(forTimeInterval: 0.05) }
        }
        var environment = ["CELLAR_INSTANCES_DIR": instancesDirectory.path, "CELLAR_COMPUTE_REVIVE_INTERVAL": "\(reviveInterval)"]
        if let crashAt { environment["CELLAR_TASKMANAGER_CRASH_AT"] = crashAt }
        try start("taskmanager", ["taskmanager"], environment: environment)
    }

    /// The task manager process as started last.
    var taskManager: ChildProcess? { processes["taskmanager"]?.process }

    /// Starts another task manager or conductor beside the running ones (`name` tells them apart).
    func startAnother(_ service: String, named name: String) throws {
        let environment = service == "taskmanager" ? ["CELLAR_INSTANCES_DIR": instancesDirectory.path, "CELLAR_COMPUTE_REVIVE_INTERVAL": "30"] : [:]
        try start(name, [service], environment: environment)
    }

    /// `kill -9` of a process this fixture started.
    func killProcess(_ name: String) {
        guard let process = processes[name]?.process, process.isRunning else { return }
        process.send(SIGKILL)
        while process.isRunning { Thread.sleep(forTimeInterval: 0.05) }
    }

    private static let secretKey = "q83vEi7gLvO4VqGeSAl3kHYa9bq0iMP6Zt8+0qYQ7xk="

    private func start(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        let log = folder.appendingPathComponent("\(name)-\(processes.count).log")
        let common = [
            "CELLAR_HOME": TestServers.projectRoot.path, "CELLAR_DATABASE_URL": database.url, "CELLAR_AMQP_URL": amqpURL,
            "CELLAR_SECRET_KEY": Self.secretKey, "CELLAR_GUEST_HEARTBEAT_INTERVAL": "\(Self.heartbeatInterval)",
            "CELLAR_GUEST_HEARTBEAT_EXPIRY": "\(Self.heartbeatExpiry)", "LOG_LEVEL": "info",
            // Not the default pool: a `cellar up` of another test may run beside these.
            "CELLAR_ADDRESS_POOL": "127.43",
            // These tests poll several times a second; rate limits have their own tests (RateLimitTests).
            "CELLAR_RATE_LIMITS": "GET=100000,POST=100000,PUT=100000,DELETE=100000,MGMT=100000",
            "CELLAR_AMQP_MANAGEMENT_URL": managementURL ?? "", "CELLAR_BACKUP_STORE_URL": backupStoreURL,
        ]
        let process = try ChildProcess.start(
            CellarProcess.executable.path, arguments,
            environment: common.merging(environment) { _, new in new }, outputPath: log.path)
        processes[name] = (process, log)
    }

    private func emptySharedQueues() async throws {
        let publisher = try BusPublisher(url: amqpURL, role: .controlPlane(sagaTriggers: []))
        defer { publisher.shutdown() }
        for queue in ["taskmanager", "conductor"] { try await publisher.deleteQueue(queue) }
    }

    /// A member of a project of its own (made with `cellar identity`): another tenant.
    func otherTenant(_ project: String) async throws -> TroveSession {
        let cli = CellarProcess.executable.path
        let created = try UpCommandTests.run(cli, ["identity", "project", "create", project, "--database-url", database.url], environment: [:])
        try #require(created.status == 0, "\(created.output)")
        let user = try UpCommandTests.run(
            cli,
            [
                "identity", "user", "create", "\(project)-member", "--project", project, "--role", "member", "--password-stdin",
                "--database-url", database.url,
            ], environment: [:], input: "\(project)-secret-pass\n")
        try #require(user.status == 0, "\(user.output)")
        return try await TroveSession.signIn(apiPort: apiPort, user: "\(project)-member", password: "\(project)-secret-pass", project: project)
    }

    /// A project and member user made with `cellar identity`, then a token for them.
    private func signIn() async throws {
        let cli = CellarProcess.executable.path
        let project = try UpCommandTests.run(cli, ["identity", "project", "create", "cp", "--database-url", database.url], environment: [:])
        try #require(project.status == 0, "\(project.output)")
        let user = try UpCommandTests.run(
            cli,
            [
                "identity", "user", "create", "carol", "--project", "cp", "--role", "member",
                "--password-stdin", "--database-url", database.url,
            ], environment: [:], input: "carol-secret-pass\n")
        try #require(user.status == 0, "\(user.output)")
        let adminUser = try UpCommandTests.run(
            cli,
            [
                "identity", "user", "create", "ada", "--project", "cp", "--role", "admin",
                "--password-stdin", "--database-url", database.url,
            ], environment: [:], input: "ada-secret-pass\n")
        try #require(adminUser.status == 0, "\(adminUser.output)")
        try await waitForAPI()
        member = try await TroveSession.signIn(apiPort: apiPort, user: "carol", password: "carol-secret-pass", project: "cp")
        self.admin = try await TroveSession.signIn(apiPort: apiPort, user: "ada", password: "ada-secret-pass", project: "cp")
    }

    private func waitForAPI() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(apiPort)/healthz")!),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw Failure("cellar api did not become healthy")
    }

    // MARK: - The Trove API

    /// A Trove request as the test's member user (or its admin); returns the status and the decoded JSON body.
    @discardableResult
    func trove(
        _ method: String, _ path: String, _ body: [String: Any]? = nil, asAdmin: Bool = false
    ) async throws -> (status: Int, json: [String: Any]) {
        try await (asAdmin ? admin : member).trove(method, path, body)
    }

    /// Creates an instance with two databases and a user `app` (granted the first database); returns its id.
    func createInstance(
        name: String = "orders", password: String = "correct-horse-battery", configuration: String? = nil,
        datastore: TestDatastore = .postgresql
    ) async throws -> String {
        try await member.createInstance(name: name, password: password, configuration: configuration, datastore: datastore)
    }

    /// Creates an instance (as `createInstance`) and waits until it is ACTIVE and HEALTHY; returns its id and address.
    func createActiveInstance(_ datastore: TestDatastore = .postgresql) async throws -> (id: String, address: String) {
        let id = try await createInstance(datastore: datastore)
        let active = try await waitFor(id, status: "ACTIVE", operating: "HEALTHY")
        return (id, try #require((active["ip"] as? [String])?.first))
    }

    /// The instance's JSON, or nil when the API answers 404.
    func instance(_ id: String) async throws -> [String: Any]? { try await member.instance(id) }

    /// Waits until the instance shows `status` (and `operating` when given); returns its JSON.
    @discardableResult
    func waitFor(_ id: String, status: String, operating: String? = nil, timeout: Duration = .seconds(90)) async throws -> [String: Any] {
        try await member.waitFor(id, status: status, operating: operating, timeout: timeout)
    }

    /// Waits until GET answers 404.
    func waitUntilGone(_ id: String, timeout: Duration = .seconds(60)) async throws { try await member.waitUntilGone(id, timeout: timeout) }

    /// The events of a stream, in order.
    func events(_ stream: String) async throws -> [RecordedEvent] {
        try await database.eventStore().readStream(stream)
    }

    /// The saga streams of an instance, each with its events.
    func sagas(of instanceID: String) async throws -> [[RecordedEvent]] {
        let rows = try await database.client.query(
            """
            SELECT stream_id FROM events WHERE event_type = 'SagaStarted' AND data->>'instanceId' = \(instanceID) ORDER BY global_position
            """, logger: TestServers.logger)
        var sagas: [[RecordedEvent]] = []
        for try await stream in rows.decode(String.self) { sagas.append(try await events(stream)) }
        return sagas
    }

    // MARK: - Processes of instances

    /// The instance's folder.
    func folder(of instanceID: String) -> URL { instancesDirectory.appendingPathComponent(instanceID) }

    /// Live guest agents of the instance.
    func guestAgents(of instanceID: String) -> [Int32] {
        ProcessStatus.processes(commandLineContaining: "guestagent --instance-id \(instanceID)")
    }

    /// Prints every log of the test's processes and of its instances' guest agents (after a failure).
    func printLogs() {
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
            .map { folder.appendingPathComponent($0) }
        let guests = ((try? FileManager.default.contentsOfDirectory(atPath: instancesDirectory.path)) ?? [])
            .map { instancesDirectory.appendingPathComponent($0).appendingPathComponent("guest.log") }
        for log in logs + guests {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            print("---- \(log.lastPathComponent) (\(log.deletingLastPathComponent().lastPathComponent)) ----\n\(text.suffix(6000))")
        }
    }

    private func tearDown() {
        for (_, entry) in processes where entry.process.isRunning {
            entry.process.send(SIGKILL)
        }
        // Everything an instance started has the instances folder on its command line. A guest killed after its
        // server may have started that server again in between: sweep until nothing is left, so no server of
        // this test holds an address the next test's instances get.
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let left = ProcessStatus.processes(commandLineContaining: instancesDirectory.path + "/")
            if left.isEmpty { break }
            for pid in left { kill(pid, SIGKILL) }
            Thread.sleep(forTimeInterval: 0.2)
        }
        InstanceOSUsers.removeUsers(of: instancesDirectory)
        Thread.sleep(forTimeInterval: 1)
        for instanceID in (try? FileManager.default.contentsOfDirectory(atPath: instancesDirectory.path)) ?? [] {
            try? FileManager.default.removeItem(atPath: "/tmp/cellar-run/\(instanceID)")
        }
        try? FileManager.default.removeItem(at: folder)
    }
}
