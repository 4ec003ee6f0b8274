import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LocalServers
import Synchronization

/// `cellar bench login`: an authenticated GET's latency while many clients fail to log in at once, next to the
/// same GET with nobody logging in, against a `cellar up` of this build (rate limits lifted, lockout and the
/// per-address throttle as configured by default).
struct LoginBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "GET /instances p50/p99 during a flood of failed logins, next to the same GET idle."
    )

    @Option(help: "Concurrent clients sending wrong passwords.") var flood = 200
    @Option(help: "Seconds of GETs measured in each phase.") var seconds = 10
    @Option(help: "HTTP port of the benchmark's own cellar up.") var port = 18998

    func run() async throws {
        let stack = try await BenchStack.start(name: "login", port: port)
        defer { stack.stop() }
        let (base, token, project) = (stack.client.base, stack.token, stack.project)
        let get = URL(string: "\(base)/v1.0/\(project)/instances")!

        let idle = try await Self.latencies(of: get, token: token, for: .seconds(seconds))
        let answers = StatusCounts()
        let flooders = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<flood {
                    group.addTask { await Self.failLogins(base: base, user: "nobody-\(index)", until: { Task.isCancelled }, answers: answers) }
                }
            }
        }
        try await Task.sleep(for: .seconds(1))
        let busy = try await Self.latencies(of: get, token: token, for: .seconds(seconds))
        flooders.cancel()
        _ = await flooders.value
        let counted = answers.counts.withLock { $0 }

        print("cellar bench login: GET /v1.0/{project}/instances, one client, \(seconds) s per phase; \(flood) clients failing to log in meanwhile (use a release build)")
        let rows = [("idle (baseline)", idle), ("during the login flood", busy)].map { name, values -> [String] in
            [name, "\(values.count)", String(format: "%.2f", Self.percentile(values, 0.5) * 1000), String(format: "%.2f", Self.percentile(values, 0.99) * 1000),
             name == "idle (baseline)" ? "baseline" : BenchFigures.ratio(Self.percentile(values, 0.99), to: Self.percentile(idle, 0.99))]
        }
        print(TextTable.render(header: ["PHASE", "REQUESTS", "P50 (MS)", "P99 (MS)", "P99 VS IDLE"], rows: rows))
        print("failed-login answers during the flood: " + counted.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", "))
    }

    /// Sequential GETs for `duration`; each one's seconds.
    static func latencies(of url: URL, token: String, for duration: Duration) async throws -> [Double] {
        var request = URLRequest(url: url)
        request.setValue(token, forHTTPHeaderField: "X-Auth-Token")
        var values: [Double] = []
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            let start = ContinuousClock.now
            let (_, response) = try await URLSession.shared.data(for: request)
            guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw ValidationError("GET answered \(String(describing: response))") }
            let elapsed = (ContinuousClock.now - start).components
            values.append(Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
        }
        return values
    }

    /// Wrong passwords, one after another on a connection of its own, until `until` says stop; counts the statuses.
    static func failLogins(base: String, user: String, until stop: @Sendable () -> Bool, answers: StatusCounts) async {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 1
        let session = URLSession(configuration: configuration)
        var request = URLRequest(url: URL(string: "\(base)/v3/auth/tokens")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data("""
            {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "\(user)", "domain": {"id": "default"},
             "password": "wrong"}}}, "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
            """.utf8)
        while !stop() {
            guard let (_, response) = try? await session.data(for: request) else { continue }
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            answers.counts.withLock { $0[status, default: 0] += 1 }
        }
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
    }
}

/// HTTP statuses seen, by count (shared by the flooding tasks).
final class StatusCounts: Sendable {
    let counts = Mutex<[Int: Int]>([:])
}
