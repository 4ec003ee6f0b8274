import CellarCLI
import Foundation
import LocalServers

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The few API calls a benchmark makes around its measurement: sign in, create an instance and wait for it,
/// delete it.
struct BenchHTTP {
    let base: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func waitUntilHealthy(server: ChildProcess, log: URL, timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard server.isRunning else { throw Failure(description: "cellar up exited:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")") }
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "\(base)/healthz")!),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure(description: "cellar up was not healthy within \(timeout)")
    }

    /// A project-scoped token and the project's id.
    func token(user: String, password: String, project: String) async throws -> (token: String, projectID: String) {
        let body: [String: Any] = [
            "auth": [
                "identity": ["methods": ["password"], "password": ["user": ["name": user, "password": password, "domain": ["id": "default"]]]],
                "scope": ["project": ["name": project, "domain": ["id": "default"]]],
            ]
        ]
        let (data, response) = try await send("POST", "/v3/auth/tokens", body: body)
        guard response.statusCode == 201, let token = response.value(forHTTPHeaderField: "X-Subject-Token"),
            let projectID = ((try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["token"] as? [String: Any])
                .flatMap({ $0["project"] as? [String: Any] })?["id"] as? String
        else {
            throw Failure(description: "sign-in answered \(response.statusCode): \(String(decoding: data, as: UTF8.self))")
        }
        return (token, projectID)
    }

    /// Creates a PostgreSQL instance and waits until it is ACTIVE; returns its id.
    func activeInstance(token: String, project: String) async throws -> String {
        let body: [String: Any] = [
            "instance": [
                "name": "bench", "flavorRef": "1", "volume": ["size": 1],
                "datastore": ["type": "postgresql", "version": "15"],
            ]
        ]
        let (data, response) = try await send("POST", "/v1.0/\(project)/instances", body: body, token: token)
        guard response.statusCode == 200,
            let id = ((try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["instance"] as? [String: Any])?["id"] as? String
        else {
            throw Failure(description: "create answered \(response.statusCode): \(String(decoding: data, as: UTF8.self))")
        }
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let (shown, _) = try await send("GET", "/v1.0/\(project)/instances/\(id)", token: token)
            let status = ((try? JSONSerialization.jsonObject(with: shown) as? [String: Any])?["instance"] as? [String: Any])?["status"] as? String
            if status == "ACTIVE" { return id }
            if status == "ERROR" { throw Failure(description: "the benchmark's instance failed: \(String(decoding: shown, as: UTF8.self))") }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw Failure(description: "the benchmark's instance was not ACTIVE within 120 s")
    }

    func delete(instance: String, token: String, project: String) async throws {
        _ = try await send("DELETE", "/v1.0/\(project)/instances/\(instance)", token: token)
    }

    private func send(_ method: String, _ path: String, body: [String: Any]? = nil, token: String? = nil) async throws -> (Data, HTTPURLResponse) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        if let token { request.setValue(token, forHTTPHeaderField: "X-Auth-Token") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return (data, response as! HTTPURLResponse)
    }
}

/// A `cellar up` of this build for a benchmark, rate limits lifted, signed in as its admin.
struct BenchStack {
    let server: ChildProcess
    let state: URL
    let client: BenchHTTP
    let token: String
    let project: String

    /// Starts it under `/var/tmp/cellar/bench-<name>-<pid>` on `port` and waits until it serves.
    static func start(name: String, port: Int) async throws -> BenchStack {
        let state = URL(fileURLWithPath: "/var/tmp/cellar/bench-\(name)-\(getpid())")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let log = state.appendingPathComponent("up.log")
        say("Starting a cellar up of this build for the benchmark ...")
        let server = try ChildProcess.start(
            executable, ["up", "--port", "\(port)", "--state-dir", state.path],
            environment: [
                "CELLAR_RATE_LIMITS": "GET=100000000,POST=100000000,PUT=100000000,DELETE=100000000",
                "CELLAR_ADDRESS_POOL": BenchControlPlane.addressPool, "LOG_LEVEL": "warning",
            ], outputPath: log.path)
        do {
            let client = BenchHTTP(base: "http://127.0.0.1:\(port)")
            try await client.waitUntilHealthy(server: server, log: log)
            let credentials =
                try JSONSerialization.jsonObject(with: Data(contentsOf: state.appendingPathComponent("admin-credentials.json"))) as? [String: String]
                ?? [:]
            let (token, project) = try await client.token(
                user: credentials["username"] ?? "admin", password: credentials["password"] ?? "",
                project: credentials["project_name"] ?? "admin")
            return BenchStack(server: server, state: state, client: client, token: token, project: project)
        } catch {
            Self.stop(server, state: state)
            throw error
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL after a minute) and removes its folder.
    func stop() { Self.stop(server, state: state) }

    private static func stop(_ server: ChildProcess, state: URL) {
        server.send(SIGTERM)
        for _ in 0..<600 where server.isRunning { usleep(100_000) }
        if server.isRunning { server.send(SIGKILL) }
        try? FileManager.default.removeItem(at: state)
    }
}

/// Runs a program to completion and returns what it printed on stdout.
enum BenchProcess {
    static func output(of executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
