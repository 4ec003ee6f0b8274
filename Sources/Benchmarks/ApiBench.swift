import ArgumentParser
import CellarCLI
import Foundation
import LocalServers

/// `cellar bench api`: requests/s and latency of the Trove read routes next to Cellar's own trivial route
/// (`GET /v3`, version discovery: no token, no database) in the same run, measured with `wrk` against a
/// `cellar up` of this build with rate limits lifted.
struct ApiBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Trove read routes' requests/s and p99 with wrk, next to the trivial GET /v3 of the same server."
    )

    @Option(help: "Seconds per route.") var seconds = 10
    @Option(help: "wrk connections.") var connections = 16
    @Option(help: "wrk threads.") var threads = 2
    @Option(help: "HTTP port of the benchmark's own cellar up.") var port = 18999

    /// The real trove-api 26 on this machine kind (requests/s, measured once with the same wrk settings); context
    /// for the last column, not a run of this command.
    static let troveReference: [String: Double] = ["instance show": 85, "instance list": 29, "datastores": 380, "flavors": 380]

    func run() async throws {
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ValidationError("wrk is missing: apt-get install wrk")
        }
        let stack = try await BenchStack.start(name: "api", port: port)
        defer { stack.stop() }
        let (base, client, token, project) = (stack.client.base, stack.client, stack.token, stack.project)
        let instance = try await client.activeInstance(token: token, project: project)

        let routes: [(name: String, path: String, authenticated: Bool)] = [
            ("trivial: GET /v3 (baseline)", "/v3", false),
            ("instance show", "/v1.0/\(project)/instances/\(instance)", true),
            ("instance list", "/v1.0/\(project)/instances", true),
            ("datastores", "/v1.0/\(project)/datastores", true),
            ("flavors", "/v1.0/\(project)/flavors", true),
        ]
        var results: [(name: String, figures: WrkFigures)] = []
        for route in routes {
            var arguments = ["-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--latency"]
            if route.authenticated { arguments += ["-H", "X-Auth-Token: \(token)"] }
            let output = try BenchProcess.output(of: wrk, arguments + [base + route.path])
            guard let figures = WrkFigures(parsing: output) else { throw ValidationError("could not read wrk's output:\n\(output)") }
            if figures.errors > 0 { say("warning: \(figures.errors) non-2xx answers or socket errors on \(route.name)") }
            results.append((route.name, figures))
        }
        try await client.delete(instance: instance, token: token, project: project)

        let baseline = results[0].figures.requestsPerSecond
        print("cellar bench api: wrk -t\(threads) -c\(connections) -d\(seconds)s per route, rate limits lifted (compare ratios; use a release build)")
        print(
            TextTable.render(
                header: ["ROUTE", "REQ/S", "P50 (MS)", "P99 (MS)", "VS TRIVIAL ROUTE", "VS TROVE-API 26 (REFERENCE)"],
                rows: results.map { result in
                    let figures = result.figures
                    return [
                        result.name, String(format: "%.0f", figures.requestsPerSecond), String(format: "%.2f", figures.p50 * 1000),
                        String(format: "%.2f", figures.p99 * 1000),
                        result.name == results[0].name ? "baseline" : BenchFigures.ratio(figures.requestsPerSecond, to: baseline),
                        Self.troveReference[result.name].map { BenchFigures.ratio(figures.requestsPerSecond, to: $0) } ?? "—",
                    ]
                }))
    }
}

/// What `wrk --latency` printed: requests/s, the 50th and 99th percentile latencies (seconds), errors.
struct WrkFigures: Equatable {
    var requestsPerSecond: Double
    var p50: Double
    var p99: Double
    var errors: Int

    init?(parsing output: String) {
        var rate: Double?
        var percentiles: [String: Double] = [:]
        var errors = 0
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.first == "Requests/sec:", fields.count == 2 { rate = Double(fields[1]) }
            if fields.count == 2, fields[0].hasSuffix("%"), let value = Self.seconds(String(fields[1])) { percentiles[String(fields[0])] = value }
            if line.contains("Non-2xx or 3xx responses:"), let count = fields.last.flatMap({ Int($0) }) { errors += count }
            if line.contains("Socket errors:") {
                errors += fields.compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }.reduce(0, +)
            }
        }
        guard let rate, let p50 = percentiles["50%"], let p99 = percentiles["99%"] else { return nil }
        self.requestsPerSecond = rate
        self.p50 = p50
        self.p99 = p99
        self.errors = errors
    }

    /// `812.00us`, `1.23ms`, `2.01s` in seconds.
    static func seconds(_ text: String) -> Double? {
        for (suffix, scale) in [("us", 1e-6), ("ms", 1e-3), ("s", 1.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return nil
    }
}
