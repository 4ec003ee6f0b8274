import CellarTestSupport
import EventStore
import Foundation
import Testing

/// PostgreSQL's configuration catalog and group edits, rename and root history on real instances, checked in SQL.
/// Attach, restart and detach on every datastore are in `InstanceBehaviourTests`.
@Suite("configuration groups and access with real guests", .serialized, .tags(.postgres, .rabbitMQ))
struct ConfigurationTests {
    @Test("the parameter catalog, bad values refused, instance counts, PATCH reaches the instances, delete of a used group refused")
    func groupsOnPostgreSQL() async throws {
        try await ControlPlane.with { plane in
            let (id, address) = try await plane.createActiveInstance()
            func show(_ setting: String) throws -> String {
                try TestDatastore.postgresql.login(address, user: "app", password: "correct-horse-battery", database: "orders", "SHOW \(setting)")
                    .output.trimmingCharacters(in: .whitespacesAndNewlines)
            }

            let parameters = try await plane.trove("GET", "/datastores/postgresql/versions/15/parameters")
            let list = try #require(parameters.json["configuration-parameters"] as? [[String: Any]], "\(parameters.json)")
            let workMem = try #require(list.first { $0["name"] as? String == "work_mem" })
            #expect(workMem["restart_required"] as? Bool == false && workMem["type"] as? String == "integer")
            #expect(list.first { $0["name"] as? String == "max_connections" }?["restart_required"] as? Bool == true)
            #expect(!list.contains { $0["name"] as? String == "listen_addresses" }, "Cellar's own settings are not configurable")
            #expect(try await plane.trove("GET", "/datastores/postgresql/versions/15/parameters/max_connections").json["min"] as? Int == 1)

            // Bad values: 400 naming the parameter, nothing recorded.
            for (values, named) in [
                (["no_such_setting": 1], "no_such_setting"), (["work_mem": 1], "work_mem"),
                (["max_connections": "many"], "max_connections"), (["enable_seqscan": "perhaps"], "enable_seqscan"),
            ] as [([String: Any], String)] {
                let refused = try await plane.trove(
                    "POST", "/configurations",
                    [
                        "configuration": [
                            "name": "bad", "values": values, "datastore": ["type": "postgresql", "version": "15"],
                        ]
                    ])
                let message = (refused.json["badRequest"] as? [String: Any])?["message"] as? String ?? ""
                #expect(refused.status == 400 && message.contains(named), "\(refused.status) \(refused.json)")
            }
            let none = try await plane.trove("GET", "/configurations").json["configurations"] as? [Any]
            #expect(none?.isEmpty == true, "a refused group was recorded")

            let created = try await plane.trove(
                "POST", "/configurations",
                [
                    "configuration": [
                        "name": "tuned", "values": ["work_mem": 8192], "datastore": ["type": "postgresql", "version": "15"],
                    ]
                ])
            #expect(created.status == 200, "\(created.json)")
            let group = try #require(created.json["configuration"] as? [String: Any])
            let groupID = try #require(group["id"] as? String)
            #expect(group["instance_count"] as? Int == 0)

            #expect(try await plane.trove("PUT", "/instances/\(id)", ["instance": ["configuration": groupID]]).status == 202)
            #expect((try await plane.instance(id)?["configuration"] as? [String: Any])?["id"] as? String == groupID)
            let shown = try await plane.trove("GET", "/configurations/\(groupID)").json["configuration"] as? [String: Any]
            #expect(shown?["instance_count"] as? Int == 1)
            let users = try await plane.trove("GET", "/configurations/\(groupID)/instances").json["instances"] as? [[String: Any]]
            #expect(users?.compactMap { $0["id"] as? String } == [id])
            #expect(try await plane.trove("DELETE", "/configurations/\(groupID)").status == 422, "an attached group cannot be deleted")
            let effective = try await plane.trove("GET", "/instances/\(id)/configuration")
            let values = (effective.json["instance"] as? [String: Any])?["configuration"] as? [String: Any]
            #expect(values?["work_mem"] as? Int == 8192, "\(effective.json)")

            let patch = try await plane.trove("PATCH", "/configurations/\(groupID)", ["configuration": ["values": ["work_mem": 16384]]])
            #expect(patch.status == 200, "\(patch.json)")
            #expect(try show("work_mem") == "16MB", "a group change reaches its instances before the answer")
            #expect(try await plane.trove("PATCH", "/configurations/\(groupID)", ["configuration": ["values": ["work_mem": -5]]]).status == 400)
            #expect(try await plane.trove("PUT", "/instances/\(id)", ["instance": ["configuration": NSNull()]]).status == 202)
            #expect(try await plane.trove("DELETE", "/configurations/\(groupID)").status == 202)
            #expect(try await plane.trove("GET", "/configurations/\(groupID)").status == 404)
            #expect(try await plane.events("instance-\(id)").map(\.type).contains("ConfigurationUpdated"))
            try await InstanceLifecycleTests.deleteAndWait(id, plane)

            // A group given at create is in the server's configuration from its first start, restart-only values too.
            let atCreate = try await plane.trove(
                "POST", "/configurations",
                [
                    "configuration": [
                        "name": "from-the-start", "values": ["work_mem": 2048, "max_connections": 40],
                        "datastore": ["type": "postgresql", "version": "15"],
                    ]
                ])
            let startID = try #require((atCreate.json["configuration"] as? [String: Any])?["id"] as? String, "\(atCreate.json)")
            let second = try await plane.createInstance(name: "preset", configuration: startID)
            let secondActive = try await plane.waitFor(second, status: "ACTIVE", operating: "HEALTHY")
            let secondAddress = try #require((secondActive["ip"] as? [String])?.first)
            let preset = try TestDatastore.postgresql.login(
                secondAddress, user: "app", password: "correct-horse-battery", database: "orders",
                "SELECT current_setting('work_mem') || ' ' || current_setting('max_connections')")
            #expect(preset.output.trimmingCharacters(in: .whitespacesAndNewlines) == "2MB 40", "\(preset.output)")
            #expect((secondActive["configuration"] as? [String: Any])?["id"] as? String == startID)
            try await InstanceLifecycleTests.deleteAndWait(second, plane)
        }
    }

    @Test("rename; root history for admins; user rename and password")
    func renameAccessRootHistory() async throws {
        try await ControlPlane.with { plane in
            let (id, address) = try await plane.createActiveInstance()
            func login() throws -> (status: Int32, output: String) {
                try TestDatastore.postgresql.login(address, user: "app", password: "correct-horse-battery", database: "orders", "SELECT 1")
            }

            #expect(try await plane.trove("PUT", "/instances/\(id)", ["instance": ["name": "ledger"]]).status == 202)
            #expect(try await plane.instance(id)?["name"] as? String == "ledger")
            #expect(try await plane.trove("PUT", "/instances/\(id)", ["instance": ["name": "  "]]).status == 400)

            let never = try await plane.trove("GET", "/mgmt/instances/\(id)/root", asAdmin: true)
            #expect((never.json["root_history"] as? [String: Any])?["enabled"] as? String == "Never", "\(never.json)")
            #expect(try await plane.trove("GET", "/mgmt/instances/\(id)/root").status == 403, "a member may not read root history")
            #expect(try await plane.trove("POST", "/instances/\(id)/root").status == 200)
            let history = try await plane.trove("GET", "/mgmt/instances/\(id)/root", asAdmin: true).json["root_history"] as? [String: Any]
            #expect(history?["id"] as? String == id)
            #expect(history?["enabled"] as? String != "Never")
            #expect((history?["user"] as? String)?.isEmpty == false && history?["user"] as? String != "Nobody")

            // PUT users/{name}: a rename keeps password and grants; a new password works at once; hosts are refused.
            #expect(try await plane.trove("PUT", "/instances/\(id)/users/app", ["user": ["name": "ledger_app"]]).status == 202)
            #expect(
                try TestDatastore.postgresql.login(address, user: "ledger_app", password: "correct-horse-battery", database: "orders", "SELECT 1")
                    .status == 0)
            #expect(try login().status != 0, "the old name still logs in")
            let renamed = try await plane.trove("GET", "/instances/\(id)/users").json["users"] as? [[String: Any]]
            #expect(renamed?.compactMap { $0["name"] as? String } == ["ledger_app"])
            #expect(try await plane.trove("PUT", "/instances/\(id)/users/ledger_app", ["user": ["password": "a-new-secret"]]).status == 202)
            #expect(
                try TestDatastore.postgresql.login(address, user: "ledger_app", password: "a-new-secret", database: "orders", "SELECT 1").status == 0)
            #expect(try await plane.trove("PUT", "/instances/\(id)/users/ledger_app", ["user": ["host": "10.0.0.1"]]).status == 400)
            #expect(try await plane.trove("PUT", "/instances/\(id)/users/nobody", ["user": ["name": "x"]]).status == 404)
            try await InstanceLifecycleTests.deleteAndWait(id, plane)
        }
    }
}
