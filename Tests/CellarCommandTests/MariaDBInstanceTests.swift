import CellarTestSupport
import Foundation
import LocalServers
import Testing

/// MariaDB instances through the control plane with real guests and real `mariadbd` servers.
@Suite("MariaDB instances with real guests", .serialized)
struct MariaDBInstanceTests {
    /// The create body of the Trove user's own script: two databases (one `utf8` / `utf8_general_ci`) and `admin`.
    static var sampleInstance: [String: Any] { [
        "name": "sample", "flavorRef": "1", "volume": ["size": 1], "datastore": ["type": "mariadb", "version": "10.11"],
        "databases": [["name": "sampledb0", "character_set": "utf8", "collate": "utf8_general_ci"], ["name": "sampledb1"]],
        "users": [["name": "admin", "password": "admin", "databases": [["name": "sampledb1"]]]],
    ] }

    @Test("create with utf8 databases and admin@%, log in over TCP, users, grants, passwords, root, restart, delete leaves nothing")
    func wholeLife() async throws {
        try await ControlPlane.with { plane in
            // The catalog comes from a real server: its variables, character sets and collations.
            let parameters = try await plane.trove("GET", "/datastores/mariadb/versions/10.11/parameters")
            let names = (parameters.json["configuration-parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(names.contains("innodb_buffer_pool_size") && names.contains("max_connections") && !names.contains("datadir"), "\(names.prefix(20))")
            var mismatched = Self.sampleInstance
            mismatched["databases"] = [["name": "sampledb0", "character_set": "latin1", "collate": "utf8_general_ci"]]
            let mismatch = try await plane.trove("POST", "/instances", ["instance": mismatched])
            #expect(mismatch.status == 400, "\(mismatch.json)")
            #expect("\(mismatch.json)".contains("belongs to character set utf8mb3, not latin1"), "\(mismatch.json)")

            let created = try await plane.trove("POST", "/instances", ["instance": Self.sampleInstance])
            #expect(created.status == 200, "\(created.json)")
            let id = try #require((created.json["instance"] as? [String: Any])?["id"] as? String)
            let active = try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            let address = try #require((active["ip"] as? [String])?.first)
            func sql(_ user: String, _ password: String, _ database: String, _ statement: String = "SELECT 1") throws -> (status: Int32, output: String) {
                try Self.mariadb(address, user: user, password: password, database: database, statement)
            }

            #expect(try sql("admin", "admin", "sampledb1").status == 0)
            let refused = try sql("admin", "admin", "sampledb0")
            #expect(refused.status != 0 && refused.output.contains("Access denied"), "\(refused.output)")

            let root = try await plane.trove("POST", "/instances/\(id)/root")
            let rootPassword = try #require((root.json["user"] as? [String: Any])?["password"] as? String)
            let charset = try sql("root", rootPassword, "mysql", "SHOW CREATE DATABASE sampledb0")
            #expect(charset.output.contains("utf8mb3_general_ci"), "\(charset.output)")

            let users = try await plane.trove("GET", "/instances/\(id)/users").json["users"] as? [[String: Any]]
            #expect(users?.contains { $0["name"] as? String == "admin" && $0["host"] as? String == "%" } == true, "\(String(describing: users))")
            #expect(try await plane.trove("POST", "/instances/\(id)/users", ["users": [
                ["name": "bob", "password": "bob-first-pass", "databases": [["name": "sampledb0"]]],
            ]]).status == 202)
            #expect(try sql("bob", "bob-first-pass", "sampledb0").status == 0)
            #expect(try await plane.trove("DELETE", "/instances/\(id)/users/bob/databases/sampledb0").status == 202)
            #expect(try sql("bob", "bob-first-pass", "sampledb0").status != 0, "revoked at the answer")
            #expect(try await plane.trove("PUT", "/instances/\(id)/users", ["users": [["name": "bob", "password": "bob-second-pass"]]]).status == 202)
            #expect(try sql("bob", "bob-second-pass", "", "SELECT CURRENT_USER()").status == 0, "the new password at the answer")
            #expect(try sql("bob", "bob-first-pass", "", "SELECT CURRENT_USER()").status != 0, "the old one refused")
            // Users are name@host: moved to another network, bob cannot log in from here; moved back, he can.
            #expect(try await plane.trove("PUT", "/instances/\(id)/users/bob", ["user": ["host": "10.%"]]).status == 202)
            #expect(try sql("bob", "bob-second-pass", "", "SELECT 1").status != 0, "bob@10.% does not match this address")
            let moved = try await plane.trove("GET", "/instances/\(id)/users").json["users"] as? [[String: Any]]
            #expect(moved?.contains { $0["name"] as? String == "bob" && $0["host"] as? String == "10.%" } == true, "\(String(describing: moved))")
            #expect(try await plane.trove("PUT", "/instances/\(id)/users/bob%4010.%25", ["user": ["host": "%"]]).status == 202)
            #expect(try sql("bob", "bob-second-pass", "", "SELECT 1").status == 0, "bob@% again, with his password")
            #expect(try await plane.trove("DELETE", "/instances/\(id)/root").status == 204)
            #expect(try sql("root", rootPassword, "mysql").status != 0, "root disabled at the answer")

            #expect(try sql("admin", "admin", "sampledb1", "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)").status == 0)
            #expect(try await plane.trove("POST", "/instances/\(id)/action", ["restart": [:] as [String: Any]]).status == 202)
            try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect(try sql("admin", "admin", "sampledb1", "SELECT n FROM kept").output.contains("7"), "data kept over a restart")

            #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202)
            try await plane.waitUntilGone(id)
            #expect(ProcessStatus.processes(commandLineContaining: plane.folder(of: id).path + "/").isEmpty)
            #expect(!FileManager.default.fileExists(atPath: plane.folder(of: id).path))
        }
    }

    @Test("a configuration group with a dynamic and a restart-only variable; resize flavor and volume; detach")
    func configurationAndResize() async throws {
        try await ControlPlane.with { plane in
            let created = try await plane.trove("POST", "/instances", ["instance": Self.sampleInstance])
            let id = try #require((created.json["instance"] as? [String: Any])?["id"] as? String, "\(created.json)")
            let address = try #require((try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")["ip"] as? [String])?.first)
            func variable(_ name: String) throws -> String {
                try Self.mariadb(address, user: "admin", password: "admin", database: "sampledb1", "SELECT @@\(name)")
                    .output.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let parameter = try await plane.trove("GET", "/datastores/mariadb/versions/10.11/parameters/innodb_log_buffer_size").json
            #expect(parameter["restart_required"] as? Bool == true, "\(parameter)")

            let group = try await plane.trove("POST", "/configurations", ["configuration": [
                "name": "tuned", "values": ["max_connections": 150, "innodb_log_buffer_size": 33554432],
                "datastore": ["type": "mariadb", "version": "10.11"]]])
            let groupID = try #require((group.json["configuration"] as? [String: Any])?["id"] as? String, "\(group.json)")
            let bad = try await plane.trove("POST", "/configurations", ["configuration": [
                "name": "bad", "values": ["max_connections": 1], "datastore": ["type": "mariadb", "version": "10.11"]]])
            #expect(bad.status == 400 && "\(bad.json)".contains("max_connections"), "\(bad.json)")

            #expect(try await plane.trove("PUT", "/instances/\(id)", ["instance": ["configuration": groupID]]).status == 202)
            #expect(try variable("max_connections") == "150", "the dynamic value is live at the answer")
            #expect(try variable("innodb_log_buffer_size") != "33554432", "the restart-only value waits")
            #expect(try await plane.instance(id)?["status"] as? String == "RESTART_REQUIRED")
            #expect(try await plane.trove("POST", "/instances/\(id)/action", ["restart": [:] as [String: Any]]).status == 202)
            try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect(try variable("innodb_log_buffer_size") == "33554432")

            #expect(try await plane.trove("POST", "/instances/\(id)/action", ["resize": ["flavorRef": "3"]]).status == 202)
            try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect(try variable("innodb_buffer_pool_size") == "\(256 * 1_048_576)", "a quarter of the new flavor's 1 GB")
            #expect(try await plane.trove("POST", "/instances/\(id)/action", ["resize": ["volume": ["size": 2]]]).status == 202)
            let resized = try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect((resized["volume"] as? [String: Any])?["size"] as? Int == 2)

            #expect(try await plane.trove("PUT", "/instances/\(id)", ["instance": ["configuration": NSNull()]]).status == 202)
            // The dynamic one is back to Cellar's setting at once; the restart-only one waits for a restart again.
            try await plane.waitFor(id, status: "RESTART_REQUIRED")
            #expect(try variable("max_connections") == "100", "detached: back to Cellar's setting")
            #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202)
            try await plane.waitUntilGone(id)
        }
    }

    @Test("kill -9 of the task manager while the guest prepares: prepare runs again idempotently, one server, admin logs in")
    func crashDuringPrepare() async throws {
        try await ControlPlane.with { plane in
            try plane.startTaskManager(crashAt: "prepareDatastore:SagaStepStarted+150")
            let created = try await plane.trove("POST", "/instances", ["instance": Self.sampleInstance])
            let id = try #require((created.json["instance"] as? [String: Any])?["id"] as? String, "\(created.json)")
            try await InstanceLifecycleTests.waitForExit(of: plane)
            try plane.startTaskManager()
            let active = try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect(plane.guestAgents(of: id).count == 1)
            #expect(ProcessStatus.processes(commandLineContaining: "mariadbd --defaults-file=\(plane.folder(of: id).path)/").count == 1)
            let prepares = try #require(try await plane.sagas(of: id).first).filter {
                $0.type == "SagaStepStarted" && String(decoding: $0.data, as: UTF8.self).contains("prepareDatastore")
            }
            #expect(prepares.count == 2, "prepare was started once before the crash and once after")
            let address = try #require((active["ip"] as? [String])?.first)
            #expect(try Self.mariadb(address, user: "admin", password: "admin", database: "sampledb1", "SELECT 1").status == 0)
            #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202)
            try await plane.waitUntilGone(id)
        }
    }

    /// `mariadb` as `user` against the instance's address, in `database` (none when empty); the password in the
    /// environment, not on the command line.
    static func mariadb(_ address: String, user: String, password: String, database: String, _ sql: String) throws -> (status: Int32, output: String) {
        let arguments = ["--no-defaults", "-h", address, "-P", "3306", "-u", user, "--connect-timeout=5", "--batch", "--skip-column-names", "-e", sql]
        return try UpCommandTests.run("/usr/bin/mariadb", arguments + (database.isEmpty ? [] : [database]), environment: ["MYSQL_PWD": password])
    }
}
