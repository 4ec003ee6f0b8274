import Bus
import CellarTestSupport
import EventStore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LocalServers
import Testing

/// The whole control plane as separate processes, as an operator would run it: `cellar api`, `cellar conductor`
/// and `cellar taskmanager` against the test servers (a fresh database; the task manager's and conductor's queues
/// emptied first), with real guest agents and PostgreSQL servers under a folder of the test's own.
final class ControlPlane: @unchecked Sendable {
    let database: TestDatabase
    let amqpURL: String
    let folder: URL
    let apiPort: Int
    private(set) var processes: [String: (process: ChildProcess, log: URL)] = [:]
    private(set) var token = ""
    /// A token of `ada`, an admin of the same project (for the mgmt routes).
    private(set) var adminToken = ""
    private(set) var projectID = ""

    /// Seconds between guest heartbeats, and after which a silent guest is unhealthy.
    static let heartbeatInterval = 1.0
    static let heartbeatExpiry = 3.0

    var instancesDirectory: URL { folder.appendingPathComponent("instances") }

    private init(database: TestDatabase, amqpURL: String, folder: URL, apiPort: Int) {
        self.database = database
        self.amqpURL = amqpURL
        self.folder = folder
        self.apiPort = apiPort
    }

    /// Runs `body` with a started control plane; stops every process and removes every instance afterwards.
    static func with(reviveInterval: Double = 30, _ body: @Sendable (ControlPlane) async throws -> Void) async throws {
        let amqpURL = try await TestServers.amqpURL()
        try await TestDatabase.with { database in
            let folder = URL(fileURLWithPath: "/var/tmp/cellar/tests-cp-\(getpid())-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            let plane = ControlPlane(database: database, amqpURL: amqpURL, folder: folder, apiPort: try Loopback.freePort())
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
        ]
        let process = try ChildProcess.start(CellarProcess.executable.path, arguments,
                                             environment: common.merging(environment) { _, new in new }, outputPath: log.path)
        processes[name] = (process, log)
    }

    private func emptySharedQueues() async throws {
        let publisher = try BusPublisher(url: amqpURL)
        defer { publisher.shutdown() }
        for queue in ["taskmanager", "conductor"] { try await publisher.deleteQueue(queue) }
    }

    /// A project and member user made with `cellar identity`, then a token for them.
    private func signIn() async throws {
        let cli = CellarProcess.executable.path
        let project = try UpCommandTests.run(cli, ["identity", "project", "create", "cp", "--database-url", database.url], environment: [:])
        try #require(project.status == 0, "\(project.output)")
        let user = try UpCommandTests.run(cli, ["identity", "user", "create", "carol", "--project", "cp", "--role", "member",
                                                "--password-stdin", "--database-url", database.url], environment: [:], input: "carol-secret-pass\n")
        try #require(user.status == 0, "\(user.output)")
        let admin = try UpCommandTests.run(cli, ["identity", "user", "create", "ada", "--project", "cp", "--role", "admin",
                                                 "--password-stdin", "--database-url", database.url], environment: [:], input: "ada-secret-pass\n")
        try #require(admin.status == 0, "\(admin.output)")
        try await waitForAPI()
        let json: [String: Any]
        (token, json) = try await Self.issueToken(apiPort: apiPort, user: "carol", password: "carol-secret-pass")
        adminToken = try await Self.issueToken(apiPort: apiPort, user: "ada", password: "ada-secret-pass").token
        projectID = try #require(((json["token"] as? [String: Any])?["project"] as? [String: Any])?["id"] as? String)
    }

    private static func issueToken(apiPort: Int, user: String, password: String) async throws -> (token: String, json: [String: Any]) {
        let body: [String: Any] = ["auth": [
            "identity": ["methods": ["password"], "password": ["user": ["name": user, "domain": ["name": "Default"], "password": password]]],
            "scope": ["project": ["name": "cp", "domain": ["name": "Default"]]],
        ]]
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(apiPort)/v3/auth/tokens")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        let token = try #require(http.value(forHTTPHeaderField: "X-Subject-Token"), "no token: \(String(decoding: data, as: UTF8.self))")
        return (token, try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]))
    }

    private func waitForAPI() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(apiPort)/healthz")!),
               (response as? HTTPURLResponse)?.statusCode == 200 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw Failure("cellar api did not become healthy")
    }

    // MARK: - The Trove API

    /// A Trove request as the test's member user; returns the status and the decoded JSON body.
    @discardableResult
    func trove(_ method: String, _ path: String, _ body: [String: Any]? = nil, asAdmin: Bool = false) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(apiPort)/v1.0/\(projectID)\(path)")!)
        request.httpMethod = method
        request.setValue(asAdmin ? adminToken : token, forHTTPHeaderField: "X-Auth-Token")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
    }

    /// Creates an instance with two databases and a user `app` (granted the first database); returns its id.
    func createInstance(name: String = "orders", password: String = "correct-horse-battery", configuration: String? = nil) async throws -> String {
        var body: [String: Any] = [
            "name": name, "flavorRef": "1", "volume": ["size": 1],
            "datastore": ["type": "postgresql", "version": "15"],
            "databases": [["name": "orders"], ["name": "billing", "character_set": "UTF8"]],
            "users": [["name": "app", "password": password, "databases": [["name": "orders"]]]],
        ]
        if let configuration { body["configuration"] = configuration }
        let (status, json) = try await trove("POST", "/instances", ["instance": body])
        try #require(status == 200, "create answered \(status): \(json)")
        return try #require((json["instance"] as? [String: Any])?["id"] as? String)
    }

    /// Creates an instance (as `createInstance`) and waits until it is ACTIVE and HEALTHY; returns its id and address.
    func createActiveInstance() async throws -> (id: String, address: String) {
        let id = try await createInstance()
        let active = try await waitFor(id, status: "ACTIVE", operating: "HEALTHY")
        return (id, try #require((active["ip"] as? [String])?.first))
    }

    /// The instance's JSON, or nil when the API answers 404.
    func instance(_ id: String) async throws -> [String: Any]? {
        let (status, json) = try await trove("GET", "/instances/\(id)")
        if status == 404 { return nil }
        try #require(status == 200, "GET answered \(status): \(json)")
        return json["instance"] as? [String: Any]
    }

    /// Waits until the instance shows `status` (and `operating` when given); returns its JSON.
    @discardableResult
    func waitFor(_ id: String, status: String, operating: String? = nil, timeout: Duration = .seconds(90)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        var last: [String: Any]?
        while ContinuousClock.now < deadline {
            last = try await instance(id)
            if let last, last["status"] as? String == status, operating == nil || last["operating_status"] as? String == operating {
                return last
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure("instance \(id) did not reach \(status)/\(operating ?? "-") within \(timeout); last: \(String(describing: last))")
    }

    /// Waits until GET answers 404.
    func waitUntilGone(_ id: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await instance(id) == nil { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure("instance \(id) still answers after \(timeout)")
    }

    /// The events of a stream, in order.
    func events(_ stream: String) async throws -> [RecordedEvent] {
        try await database.eventStore().readStream(stream)
    }

    /// The saga streams of an instance, each with its events.
    func sagas(of instanceID: String) async throws -> [[RecordedEvent]] {
        let rows = try await database.client.query("""
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

    /// Live postmasters of the instance.
    func postmasters(of instanceID: String) -> [Int32] {
        ProcessStatus.processes(commandLineContaining: "postgres -D \(folder(of: instanceID).path)/data")
    }

    /// Runs `psql` against the instance's address as `user`; returns the exit status and output.
    func psql(_ address: String, user: String, password: String, database: String, _ sql: String) throws -> (status: Int32, output: String) {
        try UpCommandTests.run("/usr/bin/psql", ["-h", address, "-p", "5432", "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
                               environment: ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"])
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
        // Everything an instance started has the instances folder on its command line.
        for pid in ProcessStatus.processes(commandLineContaining: instancesDirectory.path + "/") { kill(pid, SIGKILL) }
        Thread.sleep(forTimeInterval: 1)
        for instanceID in (try? FileManager.default.contentsOfDirectory(atPath: instancesDirectory.path)) ?? [] {
            try? FileManager.default.removeItem(atPath: "/tmp/cellar-run/\(instanceID)")
        }
        try? FileManager.default.removeItem(at: folder)
    }
}
