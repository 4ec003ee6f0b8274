import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import LocalServers
import Testing

/// `kill -9` of the task manager at every point a cluster saga records: a PostgreSQL cluster's build, its
/// deletion and its failover. The restarted task manager finishes the work with the outcome of a run without a
/// crash, and no saga stays open.
@Suite("the task manager killed at every step of the cluster sagas", .serialized, .tags(.postgres, .rabbitMQ))
struct ClusterSagaCrashTests {
    static var members: [[String: Any]] { [PostgreSQLClusterTests.member, PostgreSQLClusterTests.member] }

    /// The crash points of `program`, named with the saga (member instances have steps of the same names).
    static func crashPoints<Program: SagaProgram>(_ program: Program.Type) -> [String] {
        SagaCrashTests.crashPoints(program).map { "\(program.kind.rawValue)/\($0)" }
    }

    @Test("a 2-member PostgreSQL cluster built and deleted, killed at every step of each: the history of a run without a crash")
    func buildAndDelete() async throws {
        let creates = Self.crashPoints(Saga.CreateCluster.self)
        let deletes = Self.crashPoints(Saga.DeleteCluster.self)
        try await ControlPlane.with(reviveInterval: 3600) { plane in
            let reference = try await Self.buildAndDelete(plane, crashAt: (nil, nil))
            #expect(reference.contains("ClusterDeleted"), "\(reference)")
            for index in creates.indices {
                let points = (creates[index], deletes[index % deletes.count])
                #expect(try await Self.buildAndDelete(plane, crashAt: points) == reference, "killed at \(points)")
            }
            try await Self.expectNoOpenSaga(plane)
        }
    }

    @Test("failovers of a 2-member PostgreSQL cluster, killed at every step: the other member is promoted, the old primary rejoins")
    func failover() async throws {
        let points = Self.crashPoints(Saga.FailOver.self)
        try await ControlPlane.with(reviveInterval: 3600) { plane in
            let created = try await plane.trove(
                "POST", "/clusters",
                [
                    "cluster": [
                        "name": "crash", "datastore": ["type": "postgresql", "version": "15"], "instances": Self.members,
                        "extended_properties": ["weights": "100:50"],
                    ]
                ])
            let id = try #require((created.json["cluster"] as? [String: Any])?["id"] as? String, "\(created.json)")
            let ready = try await GaleraClusterTests.waitForTask(id, "NONE", plane)
            let ids = try #require(ready["instances"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            try #require(ids.count == 2)
            var primary = ids[0]
            for point in points {
                try plane.startTaskManager(crashAt: point, reviveInterval: 3600)
                let postmaster = try await TestDatastore.postgresql.onlyServer(in: plane.folder(of: primary))
                kill(postmaster, SIGKILL)
                try await SagaCrashTests.survive(point, plane)
                let standby = ids.first { $0 != primary }!
                let roles = try await plane.member.waitForClusterRoles([standby: "primary", primary: "replica"], cluster: id)
                #expect(roles == [standby: "primary", primary: "replica"], "killed at \(point)")
                primary = standby
            }
            let types = try await plane.events("cluster-\(id)").map(\.type)
            for step in [
                "ClusterFailoverStarted", "ClusterMemberFenced", "ClusterPrimaryPromoted", "ClusterFailoverCompleted", "ClusterMemberRejoined",
            ] {
                #expect(types.filter { $0 == step }.count == points.count, "\(step) in \(types)")
            }
            try await Self.expectNoOpenSaga(plane)
            #expect(try await plane.trove("DELETE", "/clusters/\(id)").status == 202)
            try await GaleraClusterTests.waitUntilGone(id, plane)
        }
    }

    /// Builds a cluster and deletes it, the task manager killed at the given point of each saga (nil: not killed);
    /// returns the cluster's history (event types).
    static func buildAndDelete(_ plane: ControlPlane, crashAt points: (create: String?, delete: String?)) async throws -> [String] {
        try plane.startTaskManager(crashAt: points.create, reviveInterval: 3600)
        let created = try await plane.trove(
            "POST", "/clusters",
            [
                "cluster": [
                    "name": "crash", "datastore": ["type": "postgresql", "version": "15"], "instances": Self.members,
                ]
            ])
        let id = try #require((created.json["cluster"] as? [String: Any])?["id"] as? String, "\(created.json)")
        try await SagaCrashTests.survive(points.create, plane)
        let ready = try await GaleraClusterTests.waitForTask(id, "NONE", plane)
        let ids = try #require(ready["instances"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        #expect(ids.count == 2, "killed at \(points.create ?? "-")")
        for member in ids { try await SagaCrashTests.expectOneServer(member, plane, after: points.create) }

        try plane.startTaskManager(crashAt: points.delete, reviveInterval: 3600)
        #expect(try await plane.trove("DELETE", "/clusters/\(id)").status == 202)
        try await SagaCrashTests.survive(points.delete, plane)
        try await GaleraClusterTests.waitUntilGone(id, plane)
        for member in ids {
            #expect(plane.guestAgents(of: member).isEmpty, "killed at \(points.delete ?? "-")")
            #expect(!FileManager.default.fileExists(atPath: plane.folder(of: member).path))
        }
        return try await plane.events("cluster-\(id)").map(\.type)
    }

    /// No saga stream without its end, within 30 s (a saga killed after its last step ends once resumed).
    static func expectNoOpenSaga(_ plane: ControlPlane) async throws {
        var open = 0
        let deadline = ContinuousClock.now + .seconds(30)
        repeat {
            open = try await UpStack.openSagas(plane.database.client)
            if open == 0 { return }
            try await Task.sleep(for: .milliseconds(250))
        } while ContinuousClock.now < deadline
        Issue.record("\(open) sagas left open")
    }
}
