import CellarTestSupport
import EventStore
import Foundation
import Testing

/// Passwords never travel inside SQL text: a configuration group that changes how the server reads quotes
/// (`standard_conforming_strings = off`, `sql_mode = NO_BACKSLASH_ESCAPES`) cannot turn a password into a
/// statement, and no event, log or server file keeps a password in clear (a tenant's statement log included).
@Suite("passwords against quoting changes, with real guests", .serialized, .tags(.postgres, .rabbitMQ))
struct PasswordInjectionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let datastore: TestDatastore
        /// Settings that change quoting and log every statement the server runs.
        let group: [String: any Sendable]
        /// A password that breaks out of a backslash-escaped literal under those settings.
        let hostile: String
        /// The quoting setting and what the server shows while the group is in force.
        let quoting: (name: String, shown: String)
        var testDescription: String { datastore.type }
    }

    static let cases = [
        Case(
            datastore: .postgresql, group: ["standard_conforming_strings": false, "log_statement": "all"],
            hostile: "\\' SUPERUSER --é数据", quoting: ("standard_conforming_strings", "off")),
        Case(
            datastore: .mariadb, group: ["sql_mode": "NO_BACKSLASH_ESCAPES", "general_log": true],
            hostile: "x'; GRANT ALL PRIVILEGES ON *.* TO `app`@`%` WITH GRANT OPTION; -- \\'é数据",
            quoting: ("sql_mode", "NO_BACKSLASH_ESCAPES")),
    ]

    @Test("a hostile password is only a password: no privilege gained, nothing secret in events, logs or files", arguments: cases)
    func hostilePasswords(_ testCase: Case) async throws {
        let datastore = testCase.datastore
        try await ControlPlane.with { plane in
            let created = try await plane.trove(
                "POST", "/configurations",
                [
                    "configuration": [
                        "name": "quoting", "values": testCase.group, "datastore": ["type": datastore.type, "version": datastore.version],
                    ]
                ])
            let groupID = try #require((created.json["configuration"] as? [String: Any])?["id"] as? String, "\(created.json)")
            let id = try await plane.createInstance(name: "quoting", configuration: groupID, datastore: datastore)
            let active = try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            let address = try #require((active["ip"] as? [String])?.first)
            let quoting = try datastore.setting(testCase.quoting.name, address, user: "app", password: "correct-horse-battery", database: "orders")
            #expect(quoting == testCase.quoting.shown, "the group's quoting rule is in force")

            let added = try await plane.trove(
                "POST", "/instances/\(id)/users",
                [
                    "users": [
                        ["name": "mallory", "password": testCase.hostile, "databases": [["name": "orders"]]]
                    ]
                ])
            #expect(added.status == 202, "\(added.json)")
            #expect(
                try datastore.login(address, user: "mallory", password: testCase.hostile, database: "orders").status == 0,
                "the password is the password, byte for byte")
            #expect(
                try datastore.login(address, user: "mallory", password: testCase.hostile, database: "orders", datastore.superuserProbe)
                    .output.trimmingCharacters(in: .whitespacesAndNewlines) != "yes")
            #expect(
                try datastore.login(address, user: "app", password: "correct-horse-battery", database: "orders", datastore.superuserProbe)
                    .output.trimmingCharacters(in: .whitespacesAndNewlines) != "yes", "no global grant for app")

            // A password change and root, too.
            #expect(
                try await plane.trove("PUT", "/instances/\(id)/users", ["users": [["name": "mallory", "password": testCase.hostile + "2"]]]).status
                    == 202)
            #expect(try datastore.login(address, user: "mallory", password: testCase.hostile + "2", database: "orders").status == 0)
            let root = try await plane.trove("POST", "/instances/\(id)/root", ["password": testCase.hostile])
            #expect(root.status == 200, "\(root.json)")
            #expect(try datastore.login(address, user: "root", password: testCase.hostile, database: datastore.rootDatabase).status == 0)

            // Nowhere in clear: the log (every stream), the processes' logs, any file of the instance.
            let marker = "é数据"
            let inLog =
                try await plane.database.client.query(
                    "SELECT count(*)::int FROM events WHERE data::text LIKE \("%" + marker + "%") OR metadata::text LIKE \("%" + marker + "%")",
                    logger: TestServers.logger
                ).collect().first?.decode(Int.self) ?? -1
            #expect(inLog == 0, "a password reached the event log")
            for file in Self.files(under: plane.folder) {
                guard let data = FileManager.default.contents(atPath: file.path) else { continue }
                #expect(data.range(of: Data(marker.utf8)) == nil, "a password in clear in \(file.path)")
            }
            try await InstanceLifecycleTests.deleteAndWait(id, plane)
        }
    }

    /// Every regular file below `folder` (the control plane's logs, the instances' folders with data and logs).
    static func files(under folder: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }
}
