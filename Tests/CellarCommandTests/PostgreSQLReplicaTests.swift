import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import LocalServers
import Testing

/// Trove replicas of a PostgreSQL instance (`replica_of`), through the control plane with real servers.
@Suite("PostgreSQL replicas (replica_of)", .serialized, .tags(.postgres, .rabbitMQ))
struct PostgreSQLReplicaTests {
    @Test(
        "replicas copy their source and stream (writes refused there); promote switches over without loss, the others follow; eject takes over from a dead source; detach makes a replica standalone; slots of gone replicas are dropped"
    )
    func replicaLife() async throws {
        try await ControlPlane.with { plane in
            let (source, sourceAddress) = try await plane.createActiveInstance()
            let password = "correct-horse-battery"
            func sql(_ address: String, _ statement: String) throws -> (status: Int32, output: String) {
                try TestDatastore.postgresql.login(address, user: "app", password: password, database: "orders", statement)
            }
            #expect(try sql(sourceAddress, "CREATE TABLE items (id int); INSERT INTO items VALUES (42)").status == 0)

            func createReplica(_ name: String) async throws -> (id: String, address: String) {
                let created = try await plane.trove(
                    "POST", "/instances",
                    [
                        "instance": [
                            "name": name, "flavorRef": "1", "volume": ["size": 1], "replica_of": source,
                        ]
                    ])
                try #require(created.status == 200, "\(created.json)")
                let id = try #require((created.json["instance"] as? [String: Any])?["id"] as? String)
                let active = try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
                #expect((active["replica_of"] as? [String: Any])?["id"] as? String == source, "\(active)")
                return (id, try #require((active["ip"] as? [String])?.first))
            }
            let replica = try await createReplica("orders-replica")
            let second = try await createReplica("orders-replica-2")
            let shown = try #require(try await plane.instance(source))
            #expect(Set((shown["replicas"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }) == [replica.id, second.id], "\(shown)")

            var row = ""
            for _ in 0..<50 where row != "42" {
                row = (try? sql(replica.address, "SELECT id FROM items").output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? ""
                if row != "42" { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(row == "42", "the source's row is not on the replica")
            let refused = try sql(replica.address, "INSERT INTO items VALUES (1)")
            #expect(refused.status != 0 && refused.output.contains("read-only"), "\(refused.output)")
            // Streaming: a row written now reaches the replica.
            #expect(try sql(sourceAddress, "INSERT INTO items VALUES (43)").status == 0)
            var streamed = false
            for _ in 0..<50 where !streamed {
                streamed = (try? sql(replica.address, "SELECT count(*) FROM items WHERE id = 43").output.contains("1")) ?? false
                if !streamed { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(streamed, "a new row did not stream to the replica")
            #expect(
                Set(try await Self.slots(on: source, plane)) == Set([replica.id, second.id].map(Cluster.replicationSlotName(of:))),
                "one slot per replica")

            // Promote the second replica (a planned switchover): it takes writes, the old source and the other
            // replica follow it, nothing is lost.
            #expect(try sql(sourceAddress, "INSERT INTO items VALUES (50)").status == 0)
            #expect(
                try await plane.trove("POST", "/instances/\(second.id)/action", ["promote_to_replica_source": [:] as [String: Any]]).status == 202)
            try await Self.waitUntil("the switchover ends", plane) {
                let promoted = try await plane.instance(second.id)
                let former = try await plane.instance(source)
                return promoted?["status"] as? String == "ACTIVE" && promoted?["replica_of"] == nil
                    && (former?["replica_of"] as? [String: Any])?["id"] as? String == second.id
            }
            #expect((try await plane.instance(replica.id)?["replica_of"] as? [String: Any])?["id"] as? String == second.id)
            #expect(
                try sql(second.address, "SELECT count(*) FROM items WHERE id = 50").output.contains("1"), "a commit before the switchover was lost")
            #expect(try sql(second.address, "INSERT INTO items VALUES (51)").status == 0)
            for address in [sourceAddress, replica.address] {
                try await Self.waitUntil("\(address) streams from the new source", plane) {
                    (try? sql(address, "SELECT count(*) FROM items WHERE id = 51").output.contains("1")) ?? false
                }
                #expect(try sql(address, "INSERT INTO items VALUES (-1)").status != 0, "\(address) takes writes")
            }

            // Eject: the new source is gone (its server killed, its guest frozen); the replica asked takes over.
            let guests = plane.guestAgents(of: second.id)
            try #require(guests.count == 1)
            kill(guests[0], SIGSTOP)
            defer { kill(guests[0], SIGCONT) }
            for pid in ProcessStatus.processes(commandLineContaining: "-D \(plane.folder(of: second.id).path)/data") { kill(pid, SIGKILL) }
            #expect(try await plane.trove("POST", "/instances/\(replica.id)/action", ["eject_replica_source": [:] as [String: Any]]).status == 202)
            try await Self.waitUntil("the ejection ends", plane) {
                let ejected = try await plane.instance(replica.id)
                return ejected?["status"] as? String == "ACTIVE" && ejected?["replica_of"] == nil
            }
            #expect((try await plane.instance(source)?["replica_of"] as? [String: Any])?["id"] as? String == replica.id)
            #expect(try sql(replica.address, "INSERT INTO items VALUES (52)").status == 0)
            try await Self.waitUntil("the old source follows the replica", plane) {
                (try? sql(sourceAddress, "SELECT count(*) FROM items WHERE id = 52").output.contains("1")) ?? false
            }
            kill(guests[0], SIGCONT)
            #expect(try await plane.trove("DELETE", "/instances/\(second.id)").status == 202)
            try await plane.waitUntilGone(second.id)

            // Detach the old source (now a replica): a standalone, writable instance again; its slot is dropped.
            let (detachedID, detachedAddress) = (source, sourceAddress)
            #expect(try await plane.trove("PUT", "/instances/\(detachedID)", ["instance": ["replica_of": NSNull()]]).status == 202)
            try await Self.waitUntil("the detach ends", plane) {
                let shown = try await plane.instance(detachedID)
                return shown?["status"] as? String == "ACTIVE" && shown?["replica_of"] == nil
            }
            #expect(try sql(detachedAddress, "INSERT INTO items VALUES (53)").status == 0, "the detached replica refuses writes")
            let types = try await plane.events("instance-\(detachedID)").map(\.type)
            #expect(types.contains("ReplicaDetachRequested") && types.contains("ReplicaDetached"), "\(types)")
            #expect(try await Self.slots(on: replica.id, plane).isEmpty, "slots left after the detach")

            // A deleted replica's slot goes with it.
            let created = try await plane.trove("POST", "/instances", ["instance": ["name": "short-lived", "replica_of": replica.id]])
            let shortLived = try #require((created.json["instance"] as? [String: Any])?["id"] as? String, "\(created.json)")
            try await plane.waitFor(shortLived, status: "ACTIVE", operating: "HEALTHY")
            #expect(try await Self.slots(on: replica.id, plane) == [Cluster.replicationSlotName(of: shortLived)])
            let refusedDelete = try await plane.trove("DELETE", "/instances/\(replica.id)")
            #expect(refusedDelete.status == 400 && "\(refusedDelete.json)".contains("replicas first"), "\(refusedDelete.json)")
            #expect(try await plane.trove("DELETE", "/instances/\(shortLived)").status == 202)
            try await plane.waitUntilGone(shortLived)
            #expect(try await Self.slots(on: replica.id, plane).isEmpty, "the deleted replica's slot is left")
        }
    }

    static func waitUntil(_ what: String, _ plane: ControlPlane, timeout: Duration = .seconds(90), _ condition: () async throws -> Bool) async throws
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw CellarCommandTests.Failure("timed out waiting until \(what)")
    }

    /// The replication slots on an instance's server, read as the guest's superuser over its socket.
    static func slots(on instanceID: String, _ plane: ControlPlane) async throws -> [String] {
        let socket = "/tmp/cellar-run/\(instanceID)/postgresql"
        // Only the instance's own OS user may log in as its superuser (peer).
        let (executable, arguments) = try InstanceOSUsers.command(
            "/usr/bin/psql",
            [
                "-h", socket, "-p", "5432", "-U", "os_admin", "-d", "postgres", "-tAc", "SELECT slot_name FROM pg_replication_slots ORDER BY 1",
            ], asOwnerOf: plane.folder(of: instanceID))
        let answer = try UpCommandTests.run(executable, arguments, environment: [:])
        return answer.output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }
}
