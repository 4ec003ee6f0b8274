import CellarTestSupport
import EventStore
import Foundation
import LocalServers
import Testing

/// Active-passive PostgreSQL clusters through the control plane, with real guests, a primary and streaming
/// replicas, and an HAProxy with a read-write and a read-only endpoint: weighted automatic failover, fencing,
/// the old primary back as a replica.
@Suite("PostgreSQL active-passive clusters with failover", .serialized, .tags(.postgres, .rabbitMQ))
struct PostgreSQLClusterTests {
    static var member: [String: Any] { ["flavorRef": "1", "volume": ["size": 1]] }

    /// `psql` as `user` on `address:port`.
    static func sql(
        _ address: String, port: Int = 5432, password: String, _ statement: String, database: String = "postgres"
    )
        throws -> (status: Int32, output: String)
    {
        try UpCommandTests.run(
            "/usr/bin/psql", ["-h", address, "-p", "\(port)", "-U", "root", "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", statement],
            environment: ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "3", "PGOPTIONS": "-c statement_timeout=15000"])
    }

    @Test(
        "synchronous, weights 50/100/10: replicas stream and refuse writes, reads spread; kill -9 of the primary promotes the weight-100 replica with every acknowledged commit; the old primary comes back as a replica; the history tells it"
    )
    func failover() async throws {
        try await ControlPlane.with { plane in
            let created = try await plane.trove(
                "POST", "/clusters",
                [
                    "cluster": [
                        "name": "pg", "datastore": ["type": "postgresql", "version": "15"],
                        "instances": [Self.member, Self.member, Self.member],
                        "extended_properties": ["weights": "50:100:10", "synchronous": "true"],
                    ]
                ])
            #expect(created.status == 200, "\(created.json)")
            let id = try #require((created.json["cluster"] as? [String: Any])?["id"] as? String, "\(created.json)")
            let ready = try await GaleraClusterTests.waitForTask(id, "NONE", plane)
            let members = try #require(ready["instances"] as? [[String: Any]])
            #expect(members.map { $0["role"] as? String } == ["primary", "replica", "replica"], "\(members)")
            #expect(members.map { $0["weight"] as? Int } == [50, 100, 10], "\(members)")
            let ids = members.compactMap { $0["id"] as? String }
            let addresses = members.compactMap { (($0["ip"] as? [[String: Any]])?.first?["address"]) as? String }
            try #require(ids.count == 3 && addresses.count == 3)
            let endpoints = try #require(ready["endpoints"] as? [String: String], "\(ready)")
            let balancer = try #require(endpoints["read_write"]?.split(separator: ":").first.map(String.init))
            #expect(endpoints["read_only"] == "\(balancer):5433")

            // Root through the cluster: set on the primary, streamed to the replicas, used through the balancer.
            #expect(try await plane.trove("GET", "/clusters/\(id)/root").json["rootEnabled"] as? Bool == false)
            let root = try await plane.trove("POST", "/clusters/\(id)/root")
            let password = try #require((root.json["user"] as? [String: Any])?["password"] as? String, "\(root.json)")
            #expect(try await plane.trove("GET", "/clusters/\(id)/root").json["rootEnabled"] as? Bool == true)
            #expect(try Self.sql(balancer, password: password, "CREATE TABLE log (id int PRIMARY KEY); INSERT INTO log VALUES (0)").status == 0)

            // Replicas have the row (synchronous: at least one had it at the commit) and refuse writes.
            for address in addresses.dropFirst() {
                var row = ""
                for _ in 0..<50 where row != "0" {
                    row =
                        (try? Self.sql(address, password: password, "SELECT id FROM log").output.trimmingCharacters(in: .whitespacesAndNewlines))
                        ?? ""
                    if row != "0" { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(row == "0", "\(address) lacks the row")
                let write = try Self.sql(address, password: password, "INSERT INTO log VALUES (-1)")
                #expect(write.status != 0 && write.output.contains("read-only"), "\(write.output)")
            }
            // The read-only endpoint spreads new connections over both replicas.
            var reached: Set<String> = []
            for _ in 0..<6 {
                reached.insert(
                    try Self.sql(balancer, port: 5433, password: password, "SELECT host(inet_server_addr())").output
                        .trimmingCharacters(in: .whitespacesAndNewlines))
            }
            #expect(reached == Set(addresses.dropFirst()), "\(reached)")

            // kill -9 of the primary's server in the middle of writes through the read-write endpoint.
            let postmaster = try await TestDatastore.postgresql.onlyServer(in: plane.folder(of: ids[0]))
            var acknowledged: [Int] = []
            var firstFailure: ContinuousClock.Instant?
            var recovered: ContinuousClock.Instant?
            for n in 1...400 where recovered == nil || acknowledged.count < 60 {
                if n == 20 { kill(postmaster, SIGKILL) }
                if try Self.sql(balancer, password: password, "INSERT INTO log VALUES (\(n))").status == 0 {
                    acknowledged.append(n)
                    if firstFailure != nil, recovered == nil { recovered = .now }
                } else {
                    if firstFailure == nil { firstFailure = .now }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let outage = firstFailure.flatMap { first in recovered.map { $0 - first } }
            print("failover: writes failed for \(outage.map { "\($0)" } ?? "no time"), \(acknowledged.count) acknowledged")
            try #require(recovered != nil, "writes never reached a new primary")

            let after = try await GaleraClusterTests.waitForTask(id, "NONE", plane, timeout: .seconds(120))
            let roles = try #require(after["instances"] as? [[String: Any]]).map { $0["role"] as? String }
            #expect(roles[1] == "primary", "the weight-100 replica was not promoted: \(roles)")
            let stored = Set(
                try Self.sql(addresses[1], password: password, "SELECT id FROM log").output.split(separator: "\n").compactMap { Int($0) })
            #expect(Set(acknowledged).isSubset(of: stored), "acknowledged commits lost: \(Set(acknowledged).subtracting(stored).sorted())")
            #expect(try Self.sql(addresses[2], password: password, "SELECT pg_is_in_recovery()").output.contains("t"))

            // The old primary's guest still runs: it rejoins as a replica of the new primary, and takes no writes.
            var rejoined = false
            let deadline = ContinuousClock.now + .seconds(120)
            while !rejoined, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
                let shown = try await plane.trove("GET", "/clusters/\(id)").json["cluster"] as? [String: Any]
                let role = (shown?["instances"] as? [[String: Any]])?.first?["role"] as? String
                let task = (shown?["task"] as? [String: Any])?["name"] as? String
                rejoined = role == "replica" && task == "NONE"
            }
            try #require(rejoined, "the old primary did not rejoin")
            let oldPrimary = try Self.sql(addresses[0], password: password, "SELECT pg_is_in_recovery(), count(*) >= \(acknowledged.count) FROM log")
            #expect(oldPrimary.output.trimmingCharacters(in: .whitespacesAndNewlines) == "t|t", "\(oldPrimary.output)")
            #expect(try Self.sql(addresses[0], password: password, "INSERT INTO log VALUES (-2)").status != 0)

            // New weights on the running cluster: the synchronous primary waits for its standbys in the new order.
            #expect(try await plane.trove("POST", "/clusters/\(id)", ["weights": [ids[2]: 500]]).status == 202)
            var order = ""
            for _ in 0..<40 where !order.contains("\"cellar_\(ids[2].replacingOccurrences(of: "-", with: "_"))\", ") {
                try await Task.sleep(for: .milliseconds(250))
                order = (try? Self.sql(addresses[1], password: password, "SHOW synchronous_standby_names").output) ?? ""
            }
            #expect(order.hasPrefix("FIRST 1 (\"cellar_\(ids[2].replacingOccurrences(of: "-", with: "_"))\""), "\(order)")

            // A member added by a grow is a replica of the new primary: the cluster's root logs in there too.
            #expect(try await plane.trove("POST", "/clusters/\(id)", ["grow": [Self.member]]).status == 202)
            let grown = try #require(try await GaleraClusterTests.waitForTask(id, "NONE", plane)["instances"] as? [[String: Any]])
            let newcomer = try #require(grown.first { !ids.contains($0["id"] as? String ?? "") }, "\(grown)")
            let newAddress = try #require(((newcomer["ip"] as? [[String: Any]])?.first?["address"]) as? String)
            let copied = try Self.sql(newAddress, password: password, "SELECT pg_is_in_recovery(), count(*) >= \(acknowledged.count) FROM log")
            #expect(copied.output.trimmingCharacters(in: .whitespacesAndNewlines) == "t|t", "\(copied.output)")
            #expect(try Self.sql(balancer, password: password, "SELECT 1").status == 0, "root no longer logs in through the balancer")

            let types = try await plane.events("cluster-\(id)").map(\.type)
            #expect(types.contains("ClusterRootEnabled"), "\(types)")
            let steps = [
                "ClusterFailoverStarted", "ClusterMemberFenced", "ClusterPrimaryElected", "ClusterPrimaryPromoted",
                "ClusterReplicasRepointed", "ClusterFailoverCompleted", "ClusterRejoinRequested", "ClusterMemberRejoined",
            ]
            #expect(types.filter { steps.contains($0) } == steps, "\(types)")

            #expect(try await plane.trove("DELETE", "/clusters/\(id)").status == 202)
            try await GaleraClusterTests.waitUntilGone(id, plane)
            #expect(ProcessStatus.processes(commandLineContaining: plane.instancesDirectory.path + "/").isEmpty)
        }
    }

    @Test(
        "an isolated primary (its guest frozen: heartbeats stop, its server runs) is powered off before a promotion; the weight-100 replica lagging past the bound and the weight-0 one lose to the weight-1 one; the fenced member comes back as a replica"
    )
    func isolatedPrimary() async throws {
        try await ControlPlane.with(reviveInterval: 2) { plane in
            let created = try await plane.trove(
                "POST", "/clusters",
                [
                    "cluster": [
                        "name": "pg", "datastore": ["type": "postgresql", "version": "15"],
                        "instances": [Self.member, Self.member, Self.member, Self.member],
                        "extended_properties": ["weights": "10:100:0:1"],
                    ]
                ])
            let id = try #require((created.json["cluster"] as? [String: Any])?["id"] as? String, "\(created.json)")
            let ready = try await GaleraClusterTests.waitForTask(id, "NONE", plane)
            let members = try #require(ready["instances"] as? [[String: Any]])
            let ids = members.compactMap { $0["id"] as? String }
            let addresses = members.compactMap { (($0["ip"] as? [[String: Any]])?.first?["address"]) as? String }
            try #require(ids.count == 4 && addresses.count == 4)
            let root = try await plane.trove("POST", "/instances/\(ids[0])/root")
            let password = try #require((root.json["user"] as? [String: Any])?["password"] as? String, "\(root.json)")

            // The weight-100 replica stops receiving (its own setting overrides Cellar's), then the primary writes 4 MB.
            // Root reaches the replica by replication: wait until it can log in there.
            var altered = false
            for _ in 0..<100 where !altered {
                altered = (try? Self.sql(addresses[1], password: password, "ALTER SYSTEM SET primary_conninfo = ''").status == 0) ?? false
                if !altered { try await Task.sleep(for: .milliseconds(100)) }
            }
            try #require(altered, "root never logged in on the weight-100 replica")
            #expect(try Self.sql(addresses[1], password: password, "SELECT pg_reload_conf()").status == 0)
            #expect(
                try Self.sql(
                    addresses[0], password: password,
                    "CREATE TABLE filler AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 20000) g"
                ).status == 0)
            try await Task.sleep(for: .seconds(2))  // the primary's next report carries its new position

            let guests = plane.guestAgents(of: ids[0])
            try #require(guests.count == 1)
            let postmaster = try await TestDatastore.postgresql.onlyServer(in: plane.folder(of: ids[0]))
            kill(guests[0], SIGSTOP)
            defer { kill(guests[0], SIGCONT) }

            var promoted: String?
            let deadline = ContinuousClock.now + .seconds(60)
            while promoted == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
                let shown = try await plane.trove("GET", "/clusters/\(id)").json["cluster"] as? [String: Any]
                let roles = (shown?["instances"] as? [[String: Any]])?.map { ($0["id"] as? String ?? "", $0["role"] as? String ?? "") } ?? []
                promoted = roles.first { $0.1 == "primary" && $0.0 != ids[0] }?.0
            }
            #expect(promoted == ids[3], "the weight-1 caught-up replica was not the one promoted: \(promoted ?? "nobody")")
            #expect(!ProcessStatus.isAlive(pid: postmaster), "the isolated primary's server still runs")
            let events = try await plane.events("cluster-\(id)")
            let order = events.map(\.type)
            let fenced = try #require(order.firstIndex(of: "ClusterMemberFenced"), "\(order)")
            let promotedAt = try #require(order.firstIndex(of: "ClusterPrimaryPromoted"), "\(order)")
            #expect(fenced < promotedAt, "promoted before the old primary was fenced: \(order)")
            let fence = String(decoding: events[fenced].data, as: UTF8.self)
            #expect(fence.contains("powered off"), "\(fence)")
            let election = String(decoding: try #require(events.first { $0.type == "ClusterPrimaryElected" }).data, as: UTF8.self)
            #expect(election.contains("weight 0") && election.contains("lags"), "the refusals name the weight-0 and the lagging member: \(election)")

            // The host starts the powered-off member again; it never serves as a primary, it rejoins as a replica.
            var rejoined = false
            let back = ContinuousClock.now + .seconds(120)
            while !rejoined, ContinuousClock.now < back {
                try await Task.sleep(for: .milliseconds(500))
                let types = try await plane.events("cluster-\(id)").map(\.type)
                rejoined = types.contains("ClusterMemberRejoined")
            }
            #expect(rejoined, "the fenced member did not rejoin")
            #expect(try Self.sql(addresses[0], password: password, "SELECT pg_is_in_recovery()").output.contains("t"))

            #expect(try await plane.trove("DELETE", "/clusters/\(id)").status == 202)
            try await GaleraClusterTests.waitUntilGone(id, plane)
        }
    }
}
