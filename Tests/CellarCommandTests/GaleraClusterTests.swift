import CellarTestSupport
import EventStore
import Foundation
import LocalServers
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// MariaDB Galera clusters through the control plane, with real guests, `mariadbd` members and an HAProxy per
/// cluster: every member reads and writes, data on every member, the balancer spreads connections.
@Suite("Galera clusters with real members and a load balancer", .serialized, .tags(.postgres, .rabbitMQ))
struct GaleraClusterTests {
    static var member: [String: Any] { ["flavorRef": "1", "volume": ["size": 1]] }

    @Test("create 3 → task NONE, members ACTIVE and synced, a row on every member; roundrobin and leastconn; grow, shrink, delete")
    func wholeLife() async throws {
        try await ControlPlane.with { plane in
            let created = try await plane.trove(
                "POST", "/clusters",
                [
                    "cluster": [
                        "name": "test1", "datastore": ["type": "mariadb", "version": "10.11"],
                        "instances": [Self.member, Self.member, Self.member],
                    ]
                ])
            #expect(created.status == 200, "\(created.json)")
            let id = try #require((created.json["cluster"] as? [String: Any])?["id"] as? String, "\(created.json)")
            let ready = try await Self.waitForTask(id, "NONE", plane)
            let members = try #require(ready["instances"] as? [[String: Any]])
            #expect(members.count == 3)
            #expect(members.allSatisfy { $0["status"] as? String == "ACTIVE" }, "\(members)")
            let addresses = members.compactMap { (($0["ip"] as? [[String: Any]])?.first?["address"]) as? String }
            #expect(addresses.count == 3)
            let balancer = try #require(((ready["ip"] as? [[String: Any]])?.first?["address"]) as? String, "\(ready)")

            // /metrics: each member's group figures and the balancer's view of it.
            let expected = members.compactMap { $0["id"] as? String }.flatMap { member in
                [
                    "cellar_galera_cluster_size{cluster=\"\(id)\",member=\"\(member)\"} 3.0",
                    "cellar_galera_local_state{cluster=\"\(id)\",member=\"\(member)\"} 4.0",
                    "cellar_balancer_backend_up{cluster=\"\(id)\",member=\"\(member)\"} 1",
                ]
            }
            var metrics = ""
            for _ in 0..<40 where !expected.allSatisfy(metrics.contains) {
                try await Task.sleep(for: .milliseconds(250))
                metrics = try await Self.metrics(plane)
            }
            for line in expected { #expect(metrics.contains(line), "\(metrics.suffix(2000))") }

            // Members are instances, hidden from the instance list unless asked for.
            let listed = try await plane.trove("GET", "/instances").json["instances"] as? [[String: Any]] ?? []
            #expect(listed.isEmpty, "\(listed)")
            let clustered = try await plane.trove("GET", "/instances?include_clustered=true").json["instances"] as? [[String: Any]] ?? []
            #expect(clustered.count == 3)

            // Root through the cluster (Trove's cluster root): one account for the whole group, in its history.
            #expect(try await plane.trove("GET", "/clusters/\(id)/root").json["rootEnabled"] as? Bool == false)
            let root = try await plane.trove("POST", "/clusters/\(id)/root")
            let password = try #require((root.json["user"] as? [String: Any])?["password"] as? String, "\(root.json)")
            #expect(try await plane.trove("GET", "/clusters/\(id)/root").json["rootEnabled"] as? Bool == true)
            #expect(try await plane.events("cluster-\(id)").map(\.type).contains("ClusterRootEnabled"))
            func sql(_ address: String, _ statement: String) throws -> (status: Int32, output: String) {
                try TestDatastore.mariadb.login(address, user: "root", password: password, database: "", statement)
            }
            #expect(
                try sql(
                    addresses[0],
                    "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name TEXT); INSERT INTO shop.items VALUES (1, 'kept')"
                ).status == 0)
            for address in addresses {
                let size = try sql(address, "SHOW STATUS LIKE 'wsrep_cluster_size'").output
                #expect(size.contains("3"), "\(address): \(size)")
                let row = try sql(address, "SELECT name FROM shop.items WHERE id = 1")
                #expect(row.output.trimmingCharacters(in: .whitespacesAndNewlines) == "kept", "\(address): \(row.output)")
            }

            // Round robin: successive new connections reach every member.
            var reached: Set<String> = []
            for _ in 0..<6 { reached.insert(try sql(balancer, "SELECT @@wsrep_node_name").output.trimmingCharacters(in: .whitespacesAndNewlines)) }
            #expect(reached == Set(members.compactMap { $0["id"] as? String }), "\(reached)")

            // Least connections: while connections are held open on one member, new ones go to the others.
            #expect(try await plane.trove("POST", "/clusters/\(id)", ["balancer": ["algorithm": "leastconn"]]).status == 202)
            let changed = try await Self.waitForTask(id, "NONE", plane)
            #expect((changed["extended_properties"] as? [String: Any])?["algorithm"] as? String == "leastconn")
            let held = try Self.holdConnections(to: balancer, password: password, count: 2)
            defer { for process in held { kill(-process.pid, SIGKILL) } }
            // The balancer's own count of open connections per member (its stats, through /metrics): a probe is
            // made only once the previous one is closed there, so each sees two busy members and one idle.
            func openSessions() async throws -> [String: Int] {
                var sessions: [String: Int] = [:]
                for line in try await Self.metrics(plane).split(separator: "\n")
                where line.hasPrefix("cellar_balancer_backend_current_sessions{cluster=\"\(id)\"") {
                    guard let member = line.split(separator: "\"").dropFirst(3).first, let count = line.split(separator: " ").last else { continue }
                    sessions[String(member)] = Int(count)
                }
                return sessions
            }
            func settled() async throws -> String? {
                let deadline = ContinuousClock.now + .seconds(20)
                repeat {
                    let sessions = try await openSessions()
                    let idle = sessions.filter { $0.value == 0 }.map(\.key)
                    if sessions.count == 3, sessions.values.reduce(0, +) == 2, idle.count == 1 { return idle[0] }
                    try await Task.sleep(for: .milliseconds(100))
                } while ContinuousClock.now < deadline
                return nil
            }
            let firstSettled = try await settled()
            let seen = try await openSessions()
            let idleMember = try #require(firstSettled, "the two held sessions are on two different members: \(seen)")
            for _ in 0..<3 {
                #expect(try await settled() == idleMember, "the balancer still counts the previous probe")
                let reached = try sql(balancer, "SELECT @@wsrep_node_name").output.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(reached == idleMember, "a new connection went to a busy member")
            }
            for process in held { kill(-process.pid, SIGKILL) }

            // Databases and users made through one member's API exist on every member (the accounts replicate).
            let firstMember = try #require(members.first?["id"] as? String)
            #expect(try await plane.trove("POST", "/instances/\(firstMember)/databases", ["databases": [["name": "sales"]]]).status == 202)
            #expect(
                try await plane.trove(
                    "POST", "/instances/\(firstMember)/users",
                    [
                        "users": [
                            ["name": "clerk", "password": "clerk-pass", "databases": [["name": "sales"]]]
                        ]
                    ]
                ).status == 202)
            for address in addresses {
                let login = try TestDatastore.mariadb.login(address, user: "clerk", password: "clerk-pass", database: "sales")
                #expect(login.status == 0, "\(address): \(login.output)")
            }

            // A member through its cluster; on its own it is neither deleted nor resized.
            let firstID = try #require(members.first?["id"] as? String)
            let member = try await plane.trove("GET", "/clusters/\(id)/instances/\(firstID)")
            #expect((member.json["instance"] as? [String: Any])?["cluster_id"] as? String == id, "\(member.json)")
            let alone = try await plane.trove("DELETE", "/instances/\(firstID)")
            #expect(alone.status == 400 && "\(alone.json)".contains("member of cluster"), "\(alone.json)")

            // A rolling restart: one member at a time, the data stays.
            #expect(try await plane.trove("POST", "/clusters/\(id)", ["restart": [:] as [String: Any]]).status == 202)
            try await Self.waitForTask(id, "NONE", plane)
            let restarts = try await plane.events("instance-\(firstID)").filter { $0.type == "InstanceRestarted" }
            #expect(restarts.count == 1)
            // One at a time: each member is asked to restart only after the one before is back.
            let order = try await plane.events("cluster-\(id)").filter { $0.type == "ClusterMemberRestarting" }.compactMap { event in
                (try? JSONSerialization.jsonObject(with: event.data) as? [String: Any])?["memberId"] as? String
            }
            #expect(Set(order) == Set(members.compactMap { $0["id"] as? String }) && order.count == members.count, "\(order)")
            for (earlier, later) in zip(order, order.dropFirst()) {
                let back = try await plane.events("instance-\(earlier)").last { $0.type == "InstanceRestarted" }
                let asked = try await plane.events("instance-\(later)").last { $0.type == "RestartRequested" }
                #expect(try #require(back).globalPosition < (try #require(asked).globalPosition), "\(later) restarted before \(earlier) was back")
            }
            #expect(try sql(balancer, "SELECT name FROM shop.items WHERE id = 1").output.contains("kept"))

            // Grow to 4: the new member copies the data and serves only once synced. A session opened through the
            // balancer before the grow still answers after the balancer was reloaded for the newcomer.
            let flag = plane.instancesDirectory.deletingLastPathComponent().appendingPathComponent("reloaded")
            let sessionLog = plane.instancesDirectory.deletingLastPathComponent().appendingPathComponent("session.log")
            let session = try ChildProcess.start(
                "/bin/sh",
                [
                    "-c",
                    """
                    (echo 'SELECT 1;'; while [ ! -e \(flag.path) ]; do sleep 0.2; done; echo 'SELECT 2;') \
                      | MYSQL_PWD="$PASSWORD" /usr/bin/mariadb --no-defaults -h \(balancer) -P 3306 -u root -N --batch
                    """,
                ], environment: ["PASSWORD": password], outputPath: sessionLog.path)
            defer { kill(-session.pid, SIGKILL) }
            let grow = try await plane.trove("POST", "/clusters/\(id)", ["grow": [Self.member]])
            #expect(grow.status == 202, "\(grow.json)")
            let grown = try await Self.waitForTask(id, "NONE", plane)
            #expect(FileManager.default.createFile(atPath: flag.path, contents: Data()))
            let sessionDeadline = ContinuousClock.now + .seconds(20)
            while session.isRunning, ContinuousClock.now < sessionDeadline { try await Task.sleep(for: .milliseconds(100)) }
            let answered = (try? String(contentsOf: sessionLog, encoding: .utf8)) ?? ""
            #expect(session.exitCode == 0 && answered.split(separator: "\n") == ["1", "2"], "the session did not survive the reload: \(answered)")
            let four = try #require(grown["instances"] as? [[String: Any]])
            #expect(four.count == 4)
            let newcomer = try #require(four.first { member in !members.contains { $0["id"] as? String == member["id"] as? String } })
            let newAddress = try #require(((newcomer["ip"] as? [[String: Any]])?.first?["address"]) as? String)
            // The member added by the grow has the cluster's root (copied with the data by the state transfer).
            #expect(try sql(newAddress, "SELECT name FROM shop.items WHERE id = 1").output.contains("kept"))
            #expect(try sql(newAddress, "SHOW STATUS LIKE 'wsrep_cluster_size'").output.contains("4"))

            // Shrink to 3; shrinking to 2 is refused naming the minimum.
            let leaving = try #require(newcomer["id"] as? String)
            #expect(try await plane.trove("POST", "/clusters/\(id)", ["shrink": [["id": leaving]]]).status == 202)
            let shrunk = try await Self.waitForTask(id, "NONE", plane)
            #expect((shrunk["instances"] as? [[String: Any]])?.count == 3)
            var size = ""
            for _ in 0..<20 where !size.contains("3") {
                size = try sql(addresses[1], "SHOW STATUS LIKE 'wsrep_cluster_size'").output
                if !size.contains("3") { try await Task.sleep(for: .milliseconds(500)) }
            }
            #expect(size.contains("3"), "the group did not shrink to 3: \(size)")
            let tooFew = try await plane.trove("POST", "/clusters/\(id)", ["shrink": [["id": try #require(members[0]["id"] as? String)]]])
            #expect(tooFew.status == 400 && "\(tooFew.json)".contains("at least 3"), "\(tooFew.json)")

            // Delete: no process, folder or address left.
            #expect(try await plane.trove("DELETE", "/clusters/\(id)").status == 202)
            try await Self.waitUntilGone(id, plane)
            for member in members.compactMap({ $0["id"] as? String }) + [leaving] {
                #expect(!FileManager.default.fileExists(atPath: plane.folder(of: member).path), "member \(member)'s folder is left")
            }
            #expect(ProcessStatus.processes(commandLineContaining: plane.instancesDirectory.path + "/").isEmpty, "processes are left")
            let leases = try await plane.database.client.query("SELECT count(*)::int FROM address_leases", logger: TestServers.logger)
            for try await count in leases.decode(Int.self) { #expect(count == 0, "addresses are left leased") }
        }
    }

    @Test(
        "kill -9 of a member's server during writes through the balancer: every acknowledged commit on every member, the member back synced and in rotation"
    )
    func memberLoss() async throws {
        try await ControlPlane.with { plane in
            let (id, members, balancer) = try await Self.createCluster(plane)
            let root = try await plane.trove("POST", "/clusters/\(id)/root")
            let password = try #require((root.json["user"] as? [String: Any])?["password"] as? String, "\(root.json)")
            func sql(_ address: String, _ statement: String) throws -> (status: Int32, output: String) {
                try TestDatastore.mariadb.login(address, user: "root", password: password, database: "", statement)
            }
            #expect(try sql(balancer, "CREATE DATABASE shop; CREATE TABLE shop.log (id INT PRIMARY KEY)").status == 0)

            let victim = members[1]
            let servers = ProcessStatus.processes(commandLineContaining: "mariadbd --defaults-file=\(plane.folder(of: victim.id).path)/")
            try #require(servers.count == 1)
            var acknowledged: [Int] = []
            var failures: [ContinuousClock.Instant] = []
            let start = ContinuousClock.now
            for n in 1...150 {
                if n == 20 { kill(servers[0], SIGKILL) }
                if try sql(balancer, "INSERT INTO shop.log VALUES (\(n))").status == 0 { acknowledged.append(n) } else { failures.append(.now) }
            }
            let window =
                failures.isEmpty ? "none" : "\(failures.count) failed writes between \(failures.first! - start) and \(failures.last! - start)"
            print("member loss: \(acknowledged.count) of 150 writes acknowledged; error window: \(window)")
            #expect(acknowledged.count >= 140, "too many writes failed: \(window)")

            // The guest starts the server again; it catches up and the balancer sends to it once it is synced.
            var back = false
            let deadline = ContinuousClock.now + .seconds(120)
            while !back, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
                let synced = (try? sql(victim.address, "SHOW STATUS LIKE 'wsrep_local_state_comment'").output.contains("Synced")) ?? false
                back = synced && (0..<3).contains { _ in (try? sql(balancer, "SELECT @@wsrep_node_name").output.contains(victim.id)) ?? false }
            }
            #expect(back, "the member did not come back synced and in rotation")
            #expect(ProcessStatus.processes(commandLineContaining: "mariadbd --defaults-file=\(plane.folder(of: victim.id).path)/").count == 1)
            for member in members {
                let stored = Set(try sql(member.address, "SELECT id FROM shop.log").output.split(separator: "\n").compactMap { Int($0) })
                #expect(Set(acknowledged).isSubset(of: stored), "\(member.id) lacks \(Set(acknowledged).subtracting(stored).sorted())")
            }
            let types = try await plane.events("instance-\(victim.id)").map(\.type)
            #expect(types.contains("GuestBecameUnhealthy") && types.last == "GuestBecameHealthy", "\(types)")
            #expect(try await plane.trove("DELETE", "/clusters/\(id)").status == 202)
            try await Self.waitUntilGone(id, plane)
        }
    }

    @Test("kill -9 of the task manager while the members build: the restarted one finishes the cluster with exactly three members")
    func taskManagerCrash() async throws {
        try await ControlPlane.with { plane in
            try plane.startTaskManager(crashAt: "awaitMembers:SagaStepStarted+1500")
            let created = try await plane.trove(
                "POST", "/clusters",
                [
                    "cluster": [
                        "name": "crash", "datastore": ["type": "mariadb", "version": "10.11"], "instances": [Self.member, Self.member, Self.member],
                    ]
                ])
            let id = try #require((created.json["cluster"] as? [String: Any])?["id"] as? String, "\(created.json)")
            try await InstanceLifecycleTests.waitForExit(of: plane)
            try plane.startTaskManager()
            let ready = try await Self.waitForTask(id, "NONE", plane)
            let members = try #require(ready["instances"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(members.count == 3)
            let all = try await plane.trove("GET", "/instances?include_clustered=true").json["instances"] as? [[String: Any]] ?? []
            #expect(all.count == 3, "orphan instances: \(all.compactMap { $0["id"] as? String })")
            for member in members {
                #expect(ProcessStatus.processes(commandLineContaining: "mariadbd --defaults-file=\(plane.folder(of: member).path)/").count == 1)
                #expect(plane.guestAgents(of: member).count == 1)
            }
            #expect(try await plane.trove("DELETE", "/clusters/\(id)").status == 202)
            try await Self.waitUntilGone(id, plane)
            #expect(ProcessStatus.processes(commandLineContaining: plane.instancesDirectory.path + "/").isEmpty)
        }
    }

    /// A ready 3-member cluster: its id, members (id, address) and the balancer's address.
    static func createCluster(
        _ plane: ControlPlane, algorithm: String = "roundrobin"
    ) async throws
        -> (id: String, members: [(id: String, address: String)], balancer: String)
    {
        let created = try await plane.trove(
            "POST", "/clusters",
            [
                "cluster": [
                    "name": "test1", "datastore": ["type": "mariadb", "version": "10.11"], "instances": [member, member, member],
                    "extended_properties": ["algorithm": algorithm],
                ]
            ])
        let id = try #require((created.json["cluster"] as? [String: Any])?["id"] as? String, "\(created.json)")
        let ready = try await waitForTask(id, "NONE", plane)
        let members = try #require(ready["instances"] as? [[String: Any]]).compactMap { member -> (id: String, address: String)? in
            guard let id = member["id"] as? String, let address = ((member["ip"] as? [[String: Any]])?.first?["address"]) as? String else {
                return nil
            }
            return (id, address)
        }
        let balancer = try #require(((ready["ip"] as? [[String: Any]])?.first?["address"]) as? String, "\(ready)")
        return (id, members, balancer)
    }

    /// Waits until the cluster's task is `task`; returns its JSON.
    @discardableResult
    /// `/metrics` as the operator scrapes it (an admin token); without a token it is refused.
    static func metrics(_ plane: ControlPlane) async throws -> String {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(plane.apiPort)/metrics")!)
        let (_, anonymous) = try await URLSession.shared.data(for: request)
        #expect((anonymous as? HTTPURLResponse)?.statusCode == 401)
        request.setValue(plane.admin.token, forHTTPHeaderField: "X-Auth-Token")
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        return String(decoding: data, as: UTF8.self)
    }

    static func waitForTask(_ id: String, _ task: String, _ plane: ControlPlane, timeout: Duration = .seconds(240)) async throws -> [String: Any] {
        try await plane.member.waitForClusterTask(id, task, timeout: timeout)
    }

    static func waitUntilGone(_ id: String, _ plane: ControlPlane, timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await plane.trove("GET", "/clusters/\(id)").status == 404 { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw Failure("cluster \(id) is still there after \(timeout)")
    }

    /// `count` client sessions through the balancer, held open (each a `mariadb` waiting on its stdin), each in
    /// a process group of its own (kill `-pid` ends it).
    static func holdConnections(to address: String, password: String, count: Int) throws -> [ChildProcess] {
        try (0..<count).map { _ in
            try ChildProcess.start(
                "/bin/sh", ["-c", "sleep 30 | MYSQL_PWD=\"$PASSWORD\" /usr/bin/mariadb --no-defaults -h \(address) -P 3306 -u root"],
                environment: ["PASSWORD": password], outputPath: "/dev/null")
        }
    }
}
