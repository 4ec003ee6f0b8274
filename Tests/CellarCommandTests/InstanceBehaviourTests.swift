import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import LocalServers
import Testing

/// Every single-instance behaviour, on each datastore, against real servers: the task manager's sagas, the
/// process compute driver, guest agents managing a real PostgreSQL or MariaDB, the conductor turning heartbeats
/// into events. Each test runs the control plane as separate processes (see `ControlPlane`). The instance has
/// databases `orders` and `billing` and a user `app` granted `orders`.
@Suite("instance behaviour on every datastore", .serialized, .tags(.postgres, .rabbitMQ))
struct InstanceBehaviourTests {
    static let appPassword = "correct-horse-battery"

    @Test(
        "create → ACTIVE, log in as the user, restart keeps the data, delete removes servers and folder, the log tells it all",
        arguments: TestDatastore.all)
    func createConnectRestartDelete(_ datastore: TestDatastore) async throws {
        try await ControlPlane.with { plane in
            let (id, address) = try await plane.createActiveInstance(datastore)
            func app(_ database: String, _ sql: String = "SELECT 1", password: String = Self.appPassword) throws -> (status: Int32, output: String) {
                try datastore.login(address, user: "app", password: password, database: database, sql)
            }
            let created = try app("orders", "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7); SELECT n FROM kept")
            #expect(created.status == 0 && created.output.contains("7"), "\(created.output)")
            #expect(try app("billing").status != 0, "app was granted orders only")
            #expect(try app("orders", password: "nope").status != 0)

            #expect(try await plane.trove("POST", "/instances/\(id)/action", ["restart": [:] as [String: Any]]).status == 202)
            try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect(try app("orders", "SELECT n FROM kept").output.trimmingCharacters(in: .whitespacesAndNewlines) == "7")
            let servers = datastore.servers(in: plane.folder(of: id))
            #expect(servers.count == 1)

            #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202)
            try await plane.waitUntilGone(id)
            #expect(plane.guestAgents(of: id).isEmpty)
            #expect(servers.allSatisfy { !ProcessStatus.isAlive(pid: $0) }, "the datastore server outlived the delete")
            #expect(ProcessStatus.processes(commandLineContaining: plane.folder(of: id).path + "/").isEmpty)
            #expect(!FileManager.default.fileExists(atPath: plane.folder(of: id).path), "the instance folder outlived the delete")

            let stream = try await plane.events("instance-\(id)")
            #expect(
                stream.map(\.type) == [
                    "InstanceCreateRequested", "ComputeAllocated", "GuestRegistered", "InstanceBecameActive",
                    "RestartRequested", "InstanceRestarted", "DeleteRequested", "InstanceDeleted",
                ])
            let metadata = stream.compactMap(\.decodedMetadata)
            #expect(metadata.count == stream.count)
            #expect(metadata.allSatisfy { $0.actor != nil || $0.service != nil }, "every event names who caused it")
            let createRequest = try #require(metadata.first?.requestID)
            #expect(metadata[1].service == "taskmanager" && metadata[1].requestID == createRequest)
            #expect(metadata[2].service == "conductor")
            #expect(metadata[3].requestID == createRequest)
            let sagas = try await plane.sagas(of: id)
            #expect(sagas.map { $0.last?.type } == ["SagaCompleted", "SagaCompleted", "SagaCompleted"])
            // The build: each of its steps once, started and succeeded, in order.
            let steps = sagas.first?.compactMap { event -> String? in
                guard event.type == "SagaStepStarted" || event.type == "SagaStepSucceeded" else { return nil }
                return (try? Saga.Event.decode(eventType: event.type, data: event.data)).flatMap { decoded in
                    if case .stepStarted(let attempt) = decoded { return "\(attempt.step) started" }
                    if case .stepSucceeded(let attempt) = decoded { return "\(attempt.step) succeeded" }
                    return nil
                }
            }
            #expect(steps == Saga.CreateInstance.Step.allCases.flatMap { ["\($0.rawValue) started", "\($0.rawValue) succeeded"] })
            #expect(sagas.first?.first?.type == "SagaStarted" && sagas.first?.last?.type == "SagaCompleted")
            let everything = try await plane.database.eventStore().readAll(after: .start, limit: 10_000)
            #expect(!everything.contains { String(decoding: $0.data, as: UTF8.self).contains(Self.appPassword) }, "a password reached the log")
        }
    }

    @Test(
        "kill -9 of the task manager while the guest prepares: prepare runs again idempotently, one server, the user logs in",
        arguments: TestDatastore.all)
    func crashDuringPrepare(_ datastore: TestDatastore) async throws {
        try await ControlPlane.with { plane in
            try plane.startTaskManager(crashAt: "prepareDatastore:SagaStepStarted+150")
            let id = try await plane.createInstance(datastore: datastore)
            try await InstanceLifecycleTests.waitForExit(of: plane)
            try plane.startTaskManager()
            let active = try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect(plane.guestAgents(of: id).count == 1)
            #expect(datastore.servers(in: plane.folder(of: id)).count == 1)
            let saga = try #require(try await plane.sagas(of: id).first)
            let prepares = saga.filter { $0.type == "SagaStepStarted" && String(decoding: $0.data, as: UTF8.self).contains("prepareDatastore") }
            #expect(prepares.count == 2, "prepare was started once before the crash and once after")
            let address = try #require((active["ip"] as? [String])?.first)
            #expect(try datastore.login(address, user: "app", password: Self.appPassword, database: "orders").status == 0)
            try await InstanceLifecycleTests.deleteAndWait(id, plane)
        }
    }

    @Test(
        "databases, users and hosts, grants, passwords and root change on the running server before the 202 returns",
        arguments: TestDatastore.all)
    func databasesUsersAndRoot(_ datastore: TestDatastore) async throws {
        try await ControlPlane.with { plane in
            let (id, address) = try await plane.createActiveInstance(datastore)
            func login(_ user: String, _ password: String, _ database: String) throws -> Int32 {
                try datastore.login(address, user: user, password: password, database: database).status
            }

            #expect(try await plane.trove("POST", "/instances/\(id)/databases", ["databases": [["name": "extra"]]]).status == 202)
            let databases = try await plane.trove("GET", "/instances/\(id)/databases").json["databases"] as? [[String: Any]]
            #expect(Set(databases?.compactMap { $0["name"] as? String } ?? []) == ["orders", "billing", "extra"])
            #expect(try await plane.trove("POST", "/instances/\(id)/databases", ["databases": [["name": "extra"]]]).status == 400)

            #expect(
                try await plane.trove(
                    "POST", "/instances/\(id)/users",
                    [
                        "users": [
                            ["name": "bob", "password": "bob-first-pass", "databases": [["name": "extra"]]]
                        ]
                    ]
                ).status == 202)
            #expect(try login("bob", "bob-first-pass", "extra") == 0)
            #expect(try login("bob", "bob-first-pass", "orders") != 0, "bob was granted extra only")
            let access = try await plane.trove("GET", "/instances/\(id)/users/bob/databases").json["databases"] as? [[String: Any]]
            #expect(access?.compactMap { $0["name"] as? String } == ["extra"])

            #expect(try await plane.trove("DELETE", "/instances/\(id)/users/bob/databases/extra").status == 202)
            #expect(try login("bob", "bob-first-pass", "extra") != 0, "revoked access still works")
            let bob = try await plane.trove("GET", "/instances/\(id)/users/bob").json["user"] as? [String: Any]
            #expect((bob?["databases"] as? [[String: Any]])?.isEmpty == true)
            #expect(try await plane.trove("PUT", "/instances/\(id)/users/bob/databases", ["databases": [["name": "extra"]]]).status == 202)
            #expect(try login("bob", "bob-first-pass", "extra") == 0)

            #expect(
                try await plane.trove("PUT", "/instances/\(id)/users", ["users": [["name": "bob", "password": "bob-second-pass"]]]).status == 202)
            #expect(try login("bob", "bob-first-pass", "extra") != 0)
            #expect(try login("bob", "bob-second-pass", "extra") == 0)
            #expect(try await plane.trove("PUT", "/instances/\(id)/users", ["users": [["name": "nobody", "password": "x"]]]).status == 404)

            // Hosts: where users have them, bob@10.% is another account beside bob@%; elsewhere a host is refused.
            let rules = try await plane.trove("PUT", "/instances/\(id)/users/bob", ["user": ["host": "10.%"]])
            if datastore.type == "mariadb" {
                #expect(rules.status == 202, "\(rules.json)")
                #expect(try login("bob", "bob-second-pass", "extra") != 0, "bob@10.% does not match this address")
                #expect(
                    try await plane.trove("POST", "/instances/\(id)/users", ["users": [["name": "bob", "password": "bob-any-pass"]]]).status == 202,
                    "bob@% is another account than bob@10.%")
                #expect(try login("bob", "bob-any-pass", "") == 0)
                let users = try await plane.trove("GET", "/instances/\(id)/users").json["users"] as? [[String: Any]] ?? []
                let bobs = users.filter { $0["name"] as? String == "bob" }.compactMap { $0["host"] as? String }
                #expect(Set(bobs) == ["%", "10.%"], "\(users)")
                #expect(try await plane.trove("DELETE", "/instances/\(id)/users/bob%4010.%25").status == 202)
            } else {
                #expect(rules.status == 400, "\(rules.json)")
            }

            #expect(try await plane.trove("DELETE", "/instances/\(id)/users/bob").status == 202)
            #expect(try login("bob", "bob-second-pass", "extra") != 0)
            #expect(try await plane.trove("GET", "/instances/\(id)/users/bob").status == 404)
            #expect(try await plane.trove("DELETE", "/instances/\(id)/databases/extra").status == 202)
            let left = try await plane.trove("GET", "/instances/\(id)/databases").json["databases"] as? [[String: Any]]
            #expect(Set(left?.compactMap { $0["name"] as? String } ?? []) == ["orders", "billing"])
            #expect(try login("app", Self.appPassword, "extra") != 0, "the dropped database is gone from the server")

            #expect(try await plane.trove("GET", "/instances/\(id)/root").json["rootEnabled"] as? Bool == false)
            #expect(try await plane.trove("DELETE", "/instances/\(id)/root").status == 404, "root was never enabled")
            let root = try await plane.trove("POST", "/instances/\(id)/root")
            let password = try #require((root.json["user"] as? [String: Any])?["password"] as? String, "\(root.json)")
            let probe = try datastore.login(address, user: "root", password: password, database: datastore.rootDatabase, datastore.superuserProbe)
            #expect(probe.output.trimmingCharacters(in: .whitespacesAndNewlines) == "yes", "\(probe.output)")
            #expect(try await plane.trove("GET", "/instances/\(id)/root").json["rootEnabled"] as? Bool == true)
            #expect(try await plane.trove("DELETE", "/instances/\(id)/root").status == 204)
            #expect(try login("root", password, datastore.rootDatabase) != 0, "root still logs in after disable")
            #expect(try await plane.trove("GET", "/instances/\(id)/root").json["rootEnabled"] as? Bool == false)

            let everything = try await plane.database.eventStore().readAll(after: .start, limit: 10_000)
            for secret in ["bob-first-pass", "bob-second-pass", "bob-any-pass", password] {
                #expect(!everything.contains { String(decoding: $0.data, as: UTF8.self).contains(secret) }, "a password reached the log")
            }
            try await InstanceLifecycleTests.deleteAndWait(id, plane)
        }
    }

    @Test(
        "a configuration group: the dynamic value live at the answer, the restart-only one after RESTART_REQUIRED; detach reverts",
        arguments: TestDatastore.all)
    func configurationGroup(_ datastore: TestDatastore) async throws {
        try await ControlPlane.with { plane in
            let (id, address) = try await plane.createActiveInstance(datastore)
            func setting(_ name: String) throws -> String {
                try datastore.setting(name, address, user: "app", password: Self.appPassword, database: "orders")
            }
            let (dynamic, restartOnly) = (datastore.dynamicParameter, datastore.restartParameter)
            let defaults = (dynamic: try setting(dynamic.name), restartOnly: try setting(restartOnly.name))
            let group = try await plane.trove(
                "POST", "/configurations",
                [
                    "configuration": [
                        "name": "tuned", "values": [dynamic.name: dynamic.value, restartOnly.name: restartOnly.value],
                        "datastore": ["type": datastore.type, "version": datastore.version],
                    ]
                ])
            let groupID = try #require((group.json["configuration"] as? [String: Any])?["id"] as? String, "\(group.json)")

            #expect(try await plane.trove("PUT", "/instances/\(id)", ["instance": ["configuration": groupID]]).status == 202)
            #expect(try setting(dynamic.name) == dynamic.shown, "the dynamic value is live as soon as the attach answered")
            #expect(try setting(restartOnly.name) == defaults.restartOnly, "the restart-only value waits for a restart")
            #expect(try await plane.instance(id)?["status"] as? String == "RESTART_REQUIRED")
            #expect(try await plane.trove("POST", "/instances/\(id)/action", ["restart": [:] as [String: Any]]).status == 202)
            try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect(try setting(restartOnly.name) == restartOnly.shown)

            #expect(try await plane.trove("PUT", "/instances/\(id)", ["instance": ["configuration": NSNull()]]).status == 202)
            #expect(try setting(dynamic.name) == defaults.dynamic, "the default is back at once")
            #expect(try await plane.instance(id)?["status"] as? String == "RESTART_REQUIRED")
            #expect(try await plane.trove("POST", "/instances/\(id)/action", ["restart": [:] as [String: Any]]).status == 202)
            try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect(try setting(restartOnly.name) == defaults.restartOnly)
            let stream = try await plane.events("instance-\(id)").map(\.type)
            #expect(
                stream.contains("ConfigurationAttached") && stream.contains("ConfigurationRestartPending") && stream.contains("ConfigurationDetached")
            )
            try await InstanceLifecycleTests.deleteAndWait(id, plane)
        }
    }

    @Test(
        "allowed_cidrs: a network without this client refuses every account; one with it lets users and root in again",
        arguments: TestDatastore.all)
    func accessRules(_ datastore: TestDatastore) async throws {
        try await ControlPlane.with { plane in
            let (id, address) = try await plane.createActiveInstance(datastore)
            func login(_ user: String = "app", _ password: String = Self.appPassword, _ database: String = "orders") throws -> Int32 {
                try datastore.login(address, user: user, password: password, database: database).status
            }
            func allow(_ networks: [String]) async throws -> Int {
                try await plane.trove("PUT", "/instances/\(id)", ["instance": ["access": ["is_public": false, "allowed_cidrs": networks]]]).status
            }
            let root = try await plane.trove("POST", "/instances/\(id)/root")
            let rootPassword = try #require((root.json["user"] as? [String: Any])?["password"] as? String, "\(root.json)")

            #expect(try await allow(["10.0.0.0/8"]) == 202)
            #expect(try login() != 0, "app logs in from outside the allowed networks")
            #expect(try login("root", rootPassword, datastore.rootDatabase) != 0, "root logs in from outside the allowed networks")
            let access = try await plane.instance(id)?["access"] as? [String: Any]
            #expect(access?["allowed_cidrs"] as? [String] == ["10.0.0.0/8"])
            // A user created under the rules is under them too.
            #expect(
                try await plane.trove(
                    "POST", "/instances/\(id)/users",
                    [
                        "users": [
                            [
                                "name": "late", "password": "late-pass",
                                "databases": [["name": "orders"]],
                            ]
                        ]
                    ]
                ).status == 202)
            #expect(try login("late", "late-pass") != 0)
            #expect(try await allow(["10.0.0.0/99"]) == 400)

            #expect(try await allow(["10.0.0.0/8", "127.0.0.0/8"]) == 202)
            #expect(try login() == 0)
            #expect(try login("late", "late-pass") == 0)
            #expect(try login("root", rootPassword, datastore.rootDatabase) == 0)
            #expect(try await plane.trove("PUT", "/instances/\(id)/users", ["users": [["name": "late", "password": "later-pass"]]]).status == 202)
            #expect(try login("late", "later-pass") == 0, "a password change reaches every network's account")
            let users = try await plane.trove("GET", "/instances/\(id)/users").json["users"] as? [[String: Any]] ?? []
            #expect(users.compactMap { $0["name"] as? String }.sorted() == ["app", "late"], "one user per account, whatever the rules: \(users)")

            #expect(try await allow([]) == 202)
            #expect(try login() == 0 && login("late", "later-pass") == 0)
            try await InstanceLifecycleTests.deleteAndWait(id, plane)
        }
    }

    @Test(
        "resize flavor restarts with the new memory settings; resize volume records the new size; both back to ACTIVE",
        arguments: TestDatastore.all)
    func resizes(_ datastore: TestDatastore) async throws {
        try await ControlPlane.with { plane in
            let (id, address) = try await plane.createActiveInstance(datastore)
            func memory() throws -> String {
                try datastore.setting(datastore.memorySetting.name, address, user: "app", password: Self.appPassword, database: "orders")
            }
            #expect(try memory() == datastore.memorySetting.tiny, "a quarter of db.tiny's 256 MB")

            #expect(try await plane.trove("POST", "/instances/\(id)/action", ["resize": ["flavorRef": "3"]]).status == 202)
            let resized = try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect((resized["flavor"] as? [String: Any])?["id"] as? String == "3")
            #expect(try memory() == datastore.memorySetting.medium, "a quarter of db.medium's 1024 MB")

            #expect(try await plane.trove("POST", "/instances/\(id)/action", ["resize": ["volume": ["size": 2]]]).status == 202)
            let grown = try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
            #expect((grown["volume"] as? [String: Any])?["size"] as? Int == 2)
            let types = try await plane.events("instance-\(id)").map(\.type)
            #expect(types.contains("FlavorResized") && types.contains("VolumeResized"))
            try await InstanceLifecycleTests.deleteAndWait(id, plane)
        }
    }
}
