import CellarTestSupport
import Foundation
import LocalServers
import Testing

/// The real clients users already have, against `cellar up`: python-troveclient with a keystoneauth1 password
/// session (Tests/e2e/troveclient_flow.py) and the `openstack database ...` commands.
/// In the same serialized suite as `cellar up`'s own test: two stacks starting at once only slow each other down.
extension UpCommandTests {
    static var python: URL { TestServers.projectRoot.appendingPathComponent(".build/python-clients/bin/python") }

    @Test("authenticate, list datastores and flavors, create with two databases and a user, list, show, list databases and users, delete")
    func troveclientFlow() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.python.path),
            "the OpenStack clients are missing: run scripts/python-clients (scripts/test does)")
        let state = StateDirectory(path: "/var/tmp/cellar/tests-e2e-\(getpid())")
        defer { try? FileManager.default.removeItem(at: state.url) }
        let cellar = try CellarProcess.up(stateDirectory: state)
        defer { CellarProcess.forceCleanUp(cellar, state: state) }
        do {
            try await cellar.waitUntilHealthy()
            let credentials = try Self.credentials(in: state)
            // A project and a member user made with `cellar identity`, as an operator would.
            let databaseURL = try LocalStack(stateDirectory: state).postgres.url
            let cli = CellarProcess.executable.path
            let project = try Self.run(cli, ["identity", "project", "create", "demo", "--database-url", databaseURL], environment: [:])
            #expect(project.status == 0, "\(project.output)")
            let user = try Self.run(
                cli,
                [
                    "identity", "user", "create", "alice", "--project", "demo", "--role", "member",
                    "--password-stdin", "--database-url", databaseURL,
                ], environment: [:], input: "alice-secret-pass\n")
            #expect(user.status == 0, "\(user.output)")
            var alice = credentials
            alice["OS_USERNAME"] = "alice"
            alice["OS_PASSWORD"] = "alice-secret-pass"
            alice["OS_PROJECT_NAME"] = "demo"
            let flow = try Self.run(
                Self.python.path, [TestServers.projectRoot.appendingPathComponent("Tests/e2e/troveclient_flow.py").path],
                environment: alice)
            #expect(flow.status == 0, "\(flow.output)")
            #expect(flow.output.contains("troveclient flow: ok"), "\(flow.output)")
            let mariadb = try Self.run(
                Self.python.path, [TestServers.projectRoot.appendingPathComponent("Tests/e2e/troveclient_mariadb.py").path],
                environment: alice)
            #expect(mariadb.status == 0, "\(mariadb.output)")
            #expect(mariadb.output.contains("troveclient mariadb: ok"), "\(mariadb.output)")
            let cluster = try Self.run(
                Self.python.path, [TestServers.projectRoot.appendingPathComponent("Tests/e2e/troveclient_cluster.py").path],
                environment: alice)
            #expect(cluster.status == 0, "\(cluster.output)")
            #expect(cluster.output.contains("troveclient cluster: ok"), "\(cluster.output)")

            let openstack = Self.python.deletingLastPathComponent().appendingPathComponent("openstack").path
            if FileManager.default.isExecutableFile(atPath: openstack) {
                let listing = try Self.run(openstack, ["database", "instance", "list", "-f", "json"], environment: credentials)
                #expect(listing.status == 0, "\(listing.output)")
                #expect(listing.output.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("["), "\(listing.output)")
            }
        } catch {
            try? await cellar.terminate()
            throw error
        }
        try await cellar.terminate()
    }

    /// OS_* variables from the admin credentials `cellar up` saved.
    static func credentials(in state: StateDirectory) throws -> [String: String] {
        let data = try Data(contentsOf: state.url.appendingPathComponent("admin-credentials.json"))
        let saved = try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
        return [
            "OS_AUTH_URL": saved["auth_url"] ?? "", "OS_USERNAME": saved["username"] ?? "",
            "OS_PASSWORD": saved["password"] ?? "", "OS_PROJECT_NAME": saved["project_name"] ?? "",
            "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default", "OS_IDENTITY_API_VERSION": "3",
        ]
    }

    /// Runs a program to completion; returns its exit status and everything it printed.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], input: String? = nil
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        let stdin = Pipe()
        process.standardInput = stdin
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}
