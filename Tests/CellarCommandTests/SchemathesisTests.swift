import CellarTestSupport
import Foundation
import LocalServers
import Testing

/// schemathesis, an OpenAPI fuzzer, against `cellar up` with a member's token: every operation of
/// `/openapi.json` with generated (and deliberately bad) input, NUL bytes included, every check it has, the
/// stateful phase too. Deterministic generation, a bounded number of examples per operation.
@Suite("schemathesis against /openapi.json", .serialized)
struct SchemathesisTests {
    static var schemathesis: URL { TestServers.projectRoot.appendingPathComponent(".build/schemathesis/bin/schemathesis") }

    @Test("schemathesis --checks all, stateful phase included: no 5xx, no conformance failure")
    func fuzzTheDocumentedAPI() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.schemathesis.path),
            "schemathesis is missing: run scripts/python-clients (scripts/test does)")
        try await UpStack.with(name: "fuzz", addressPool: "127.48") { state, up, _ in try await Self.fuzz(state, up) }
    }

    static func fuzz(_ state: StateDirectory, _ up: CellarProcess) async throws {
        let cli = CellarProcess.executable.path
        let stateEnvironment = ["CELLAR_STATE_DIR": state.url.path, "CELLAR_HOME": TestServers.projectRoot.path, "CELLAR_DATABASE_URL": ""]
        let project = try UpCommandTests.run(cli, ["identity", "project", "create", "fuzz"], environment: stateEnvironment)
        try #require(project.status == 0, "\(project.output)")
        let user = try UpCommandTests.run(
            cli, ["identity", "user", "create", "fuzzer", "--project", "fuzz", "--role", "member", "--password-stdin"],
            environment: stateEnvironment, input: "fuzzer-secret-pass\n")
        try #require(user.status == 0, "\(user.output)")
        let member = try await TroveSession.signIn(apiPort: up.port, user: "fuzzer", password: "fuzzer-secret-pass", project: "fuzz")

        let run = try UpCommandTests.run(
            schemathesis.path,
            [
                "run", "http://127.0.0.1:\(up.port)/openapi.json", "--header", "X-Auth-Token: \(member.token)",
                // Every check: no 5xx; statuses, content types, headers and bodies as documented; schema-valid input
                // accepted and invalid input refused; 405 with `Allow` for undeclared methods; and the stateful phase
                // (links between operations: a created resource shown, changed, deleted, gone).
                "--checks", "all",
                "--max-examples", "10", "--generation-deterministic", "--phases", "examples,coverage,fuzzing,stateful",
                "--no-color",
            ], environment: ["SCHEMATHESIS_HOOKS": ""])
        #expect(run.status == 0, "\(run.output.suffix(12_000))")
        // It really ran: every operation of the document was exercised (94 when this test was written).
        let tested = run.output.firstMatch(of: /Tested: (\d+)/).flatMap { Int($0.1) } ?? 0
        #expect(tested >= 90, "schemathesis tested \(tested) operations:\n\(run.output.suffix(4_000))")
    }
}
