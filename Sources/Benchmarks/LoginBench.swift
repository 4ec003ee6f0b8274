import ArgumentParser
import CellarCLI
import Foundation
import LocalServers

/// `cellar bench login`: an authenticated GET's latency while many clients fail to log in at once, next to the
/// same GET with nobody logging in, against a `cellar up` of this build (rate limits lifted; lockout and the
/// per-address limit of failed logins as configured by default). Both loads are `wrk`: one connection of GETs,
/// and the flood's connections posting wrong passwords.
struct LoginBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "GET /instances p50/p99 during a flood of failed logins, next to the same GET idle (needs wrk)."
    )

    @Option(help: "Concurrent connections sending wrong passwords.") var flood = 200
    @Option(help: "Seconds of GETs measured in each phase.") var seconds = 10
    @Option(help: "HTTP port of the benchmark's own cellar up.") var port = 18998

    func run() async throws {
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ValidationError("wrk is missing: apt-get install wrk")
        }
        let stack = try await BenchStack.start(name: "login", port: port)
        defer { stack.stop() }
        let base = stack.client.base
        let get = ["-t1", "-c1", "-d\(seconds)s", "--latency", "-H", "X-Auth-Token: \(stack.token)", "\(base)/v1.0/\(stack.project)/instances"]

        let idle = try Self.figures(BenchProcess.output(of: wrk, get))
        // Wrong passwords of a user that does not exist: each one costs a full hash unless refused before it.
        let script = stack.state.appendingPathComponent("flood.lua")
        try Data(
            """
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            wrk.body = '{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "nobody", "domain": {"id": "default"}, "password": "wrong"}}}, "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}'
            """.utf8
        ).write(to: script)
        let flooding = Task.detached {
            try BenchProcess.output(of: wrk, ["-t2", "-c\(flood)", "-d\(seconds + 2)s", "--latency", "-s", script.path, "\(base)/v3/auth/tokens"])
        }
        try await Task.sleep(for: .seconds(1))
        let busy = try Self.figures(BenchProcess.output(of: wrk, get))
        let floodFigures = try Self.figures(try await flooding.value)

        print(
            "cellar bench login: GET /v1.0/{project}/instances on one connection, \(seconds) s per phase; \(flood) connections posting wrong passwords meanwhile (use a release build)"
        )
        print(
            TextTable.render(
                header: ["PHASE", "REQ/S", "P50 (MS)", "P99 (MS)", "P99 VS IDLE"],
                rows: [
                    [
                        "idle (baseline)", String(format: "%.0f", idle.requestsPerSecond), Self.milliseconds(idle.p50), Self.milliseconds(idle.p99),
                        "baseline",
                    ],
                    [
                        "during the login flood", String(format: "%.0f", busy.requestsPerSecond), Self.milliseconds(busy.p50),
                        Self.milliseconds(busy.p99),
                        BenchFigures.ratio(busy.p99, to: idle.p99),
                    ],
                ]))
        print(
            String(
                format: "the flood: %.0f failed logins/s answered (p99 %@ ms), all refused (401 wrong password, 429 past the per-address limit)",
                floodFigures.requestsPerSecond, Self.milliseconds(floodFigures.p99)))
    }

    static func figures(_ output: String) throws -> WrkFigures {
        guard let figures = WrkFigures(parsing: output) else { throw ValidationError("could not read wrk's output:\n\(output)") }
        return figures
    }

    static func milliseconds(_ seconds: Double) -> String { String(format: "%.2f", seconds * 1000) }
}
