import CellarTestSupport
import EventStore
import Foundation
import LocalServers
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `cellar up` as a user runs it: a real process with its own private PostgreSQL and RabbitMQ.
@Suite("cellar up", .serialized)
struct UpCommandTests {
    @Test("starts private servers and serves a healthy /healthz; SIGTERM leaves no server behind; a second start reuses the data")
    func upStopAndReuse() async throws {
        let state = StateDirectory(path: "/var/tmp/cellar/tests-up-\(getpid())")
        defer { try? FileManager.default.removeItem(at: state.url) }

        let first = try CellarProcess.up(stateDirectory: state)
        defer { CellarProcess.forceCleanUp(first, state: state) }
        try await first.waitUntilHealthy()
        let stack = try LocalStack(stateDirectory: state)
        let marker = "marker-\(UUID().uuidString)"
        try await TestDatabase.withClient(url: stack.postgres.url) { client in
            let store = PostgresEventStore(client: client, logger: TestServers.logger)
            _ = try await store.append(to: marker, expectedVersion: .noStream, events: [NewEvent(type: "Marked", data: Data("{}".utf8))])
        }
        try await first.terminate()
        #expect(CellarProcess.serverProcesses(of: stack).isEmpty, "servers left running after SIGTERM")

        let second = try CellarProcess.up(stateDirectory: state)
        defer { CellarProcess.forceCleanUp(second, state: state) }
        try await second.waitUntilHealthy()
        // Read the settings again: a port taken by another program meanwhile is replaced on start.
        let restarted = try LocalStack(stateDirectory: state)
        let version = try await TestDatabase.withClient(url: restarted.postgres.url) { client in
            try await PostgresEventStore(client: client, logger: TestServers.logger).version(of: marker)
        }
        #expect(version == 1, "the second start reused the first one's database")
        try await second.terminate()
        #expect(CellarProcess.serverProcesses(of: restarted).isEmpty, "servers left running after SIGTERM")
    }
}

/// A `cellar` executable started by a test.
struct CellarProcess {
    let process: ChildProcess
    let port: Int
    let output: URL

    /// The `cellar` binary built next to the test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("cellar")
    }

    static func up(stateDirectory: StateDirectory, port: Int? = nil, environment extra: [String: String] = [:]) throws -> CellarProcess {
        let port = try port ?? Loopback.freePort()
        let environment: [String: String] = [
            "CELLAR_STATE_DIR": stateDirectory.url.path, "CELLAR_HOME": TestServers.projectRoot.path,
            "CELLAR_DATABASE_URL": "", "CELLAR_AMQP_URL": "", "CELLAR_SECRET_KEY": "", "CELLAR_INSTANCES_DIR": "", "CELLAR_BACKUP_STORE_URL": "",
        ].merging(extra) { _, new in new }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("cellar-up-\(UUID().uuidString).log")
        let process = try ChildProcess.start(executable.path, ["up", "--port", "\(port)"], environment: environment, outputPath: output.path)
        return CellarProcess(process: process, port: port, output: output)
    }

    /// Waits until the process has ended (e.g. killed itself at a crash point); returns its exit code.
    @discardableResult
    func waitForExit(timeout: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        guard let code = process.exitCode, !process.isRunning else { throw Failure("cellar up still runs after \(timeout):\n\(log)") }
        return code
    }

    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    func waitUntilHealthy(timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        let url = URL(string: "http://127.0.0.1:\(port)/healthz")!
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw Failure("cellar up exited early:\n\(log)") }
            if let (_, response) = try? await URLSession.shared.data(from: url), (response as? HTTPURLResponse)?.statusCode == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure("no healthy /healthz within \(timeout):\n\(log)")
    }

    func terminate(timeout: Duration = .seconds(60)) async throws {
        process.send(SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        guard !process.isRunning else { throw Failure("cellar up did not stop within \(timeout) of SIGTERM:\n\(log)") }
        try await Task.sleep(for: .seconds(1))  // orphaned daemons are reaped by PID 1 a little later
        if process.exitCode == 0 { try? FileManager.default.removeItem(at: output) }  // kept for the failure's message
    }

    /// After a failed test: kill `cellar` if it still runs and stop its servers, so none outlive the test.
    static func forceCleanUp(_ cellar: CellarProcess, state: StateDirectory) {
        if cellar.process.isRunning { cellar.process.send(SIGKILL) }
        guard FileManager.default.fileExists(atPath: state.url.appendingPathComponent("stack.json").path) else { return }
        (try? LocalStack(stateDirectory: state))?.stop()
    }

    /// Live processes that belong to the stack: the postmaster, beam and epmd (found by their command lines).
    static func serverProcesses(of stack: LocalStack) -> [String] {
        let markers = [stack.stateDirectory.url.path, "-port \(stack.rabbitMQ.epmdPort)"]
        return Set(markers.flatMap(ProcessStatus.processes(commandLineContaining:))).sorted().map { pid in
            "\(pid): \(ProcessStatus.commandLine(of: pid) ?? "?")"
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
