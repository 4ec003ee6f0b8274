import CellarTestSupport
import Foundation
import LocalServers
import Testing

/// The web console in a real browser (headless Chromium driven by Selenium, Tests/e2e/console_flow.py) against
/// `cellar up`: sign in, the launch wizard (an error next to its field, then a PostgreSQL instance with a
/// database and a user), the table going BUILD → ACTIVE without a reload, the instance page (timeline, statechart,
/// time travel), delete; the same for a 3-member cluster; sign out. Screenshots go to `.build/console-screenshots`.
extension UpCommandTests {
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"

    @Test("the web console in headless Chromium: wizard error, instance and cluster launched, watched, inspected and deleted; sign-out")
    func consoleInBrowser() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.chromium) && FileManager.default.isExecutableFile(atPath: Self.chromedriver),
            "Chromium and its driver are missing: run scripts/setup (scripts/test does)")
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.python.path),
            "Selenium is missing: run scripts/python-clients (scripts/test does)")
        let state = StateDirectory(path: "/var/tmp/cellar/tests-console-\(getpid())")
        defer { try? FileManager.default.removeItem(at: state.url) }
        let cellar = try CellarProcess.up(stateDirectory: state)
        defer { CellarProcess.forceCleanUp(cellar, state: state) }
        do {
            try await cellar.waitUntilHealthy()
            let databaseURL = try LocalStack(stateDirectory: state).postgres.url
            let cli = CellarProcess.executable.path
            #expect(try Self.run(cli, ["identity", "project", "create", "web", "--database-url", databaseURL], environment: [:]).status == 0)
            let user = try Self.run(
                cli,
                [
                    "identity", "user", "create", "carol", "--project", "web", "--role", "member",
                    "--password-stdin", "--database-url", databaseURL,
                ], environment: [:], input: "carol-console-pass\n")
            #expect(user.status == 0, "\(user.output)")
            let screenshots = TestServers.projectRoot.appendingPathComponent(".build/console-screenshots")
            try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
            let flow = try Self.run(
                Self.python.path, [TestServers.projectRoot.appendingPathComponent("Tests/e2e/console_flow.py").path],
                environment: [
                    "CELLAR_CONSOLE_URL": "http://127.0.0.1:\(cellar.port)/console/", "OS_USERNAME": "carol",
                    "OS_PASSWORD": "carol-console-pass", "OS_PROJECT_NAME": "web", "CONSOLE_SCREENSHOTS": screenshots.path,
                ])
            #expect(flow.status == 0, "\(flow.output)")
            #expect(flow.output.contains("console flow: ok"), "\(flow.output)")
            for name in ["instances.png", "launch-wizard.png", "instance-page.png", "cluster-page.png"] {
                #expect(FileManager.default.fileExists(atPath: screenshots.appendingPathComponent(name).path), "no screenshot \(name)")
            }
        } catch {
            try? await cellar.terminate()
            throw error
        }
        try await cellar.terminate()
    }
}
