import CellarTestSupport
import Foundation
import LocalServers
import Testing

/// What only MariaDB has, through the control plane with real guests and `mariadbd` servers: the Trove user's
/// MySQL-family create body, character sets and collations, host rules. The rest is `InstanceBehaviourTests`.
@Suite("MariaDB instances with real guests", .serialized)
struct MariaDBInstanceTests {
    /// The create body of the Trove user's own script: two databases (one `utf8` / `utf8_general_ci`) and `admin`.
    static var sampleInstance: [String: Any] {
        [
            "name": "sample", "flavorRef": "1", "volume": ["size": 1], "datastore": ["type": "mariadb", "version": "10.11"],
            "databases": [["name": "sampledb0", "character_set": "utf8", "collate": "utf8_general_ci"], ["name": "sampledb1"]],
            "users": [["name": "admin", "password": "admin", "databases": [["name": "sampledb1"]]]],
        ]
    }

    @Test("the Trove user's script: utf8 databases and admin@% granted one, the server's catalog, SHOW CREATE DATABASE")
    func troveUsersScript() async throws {
        try await ControlPlane.with { plane in
            // The catalog comes from a real server: its variables, character sets and collations.
            let parameters = try await plane.trove("GET", "/datastores/mariadb/versions/10.11/parameters")
            let names = (parameters.json["configuration-parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(
                names.contains("innodb_buffer_pool_size") && names.contains("max_connections") && !names.contains("datadir"), "\(names.prefix(20))")
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
            func sql(
                _ user: String, _ password: String, _ database: String, _ statement: String = "SELECT 1"
            ) throws -> (status: Int32, output: String) {
                try TestDatastore.mariadb.login(address, user: user, password: password, database: database, statement)
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
            let access = try await plane.trove("GET", "/instances/\(id)/users/admin%40%25/databases").json["databases"] as? [[String: Any]]
            #expect(access?.compactMap { $0["name"] as? String } == ["sampledb1"])
            // MariaDB's host rules take IPv6 clients by their whole address only: refused up front.
            let v6 = try await plane.trove("PUT", "/instances/\(id)", ["instance": ["access": ["allowed_cidrs": ["2001:db8::/32"]]]])
            #expect(v6.status == 400 && "\(v6.json)".contains("IPv6"), "\(v6.json)")
            #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202)
            try await plane.waitUntilGone(id)
            #expect(ProcessStatus.processes(commandLineContaining: plane.folder(of: id).path + "/").isEmpty)
            #expect(!FileManager.default.fileExists(atPath: plane.folder(of: id).path))
        }
    }
}
