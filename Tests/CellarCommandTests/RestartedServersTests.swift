import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import LocalServers
import Testing

/// The control plane's PostgreSQL and RabbitMQ restarted under it in the middle of work: an instance's build
/// while its guest prepares, a cluster's build while it waits for its members. Nothing is lost or done twice,
/// nothing stays in BUILD.
@Suite("PostgreSQL and RabbitMQ restarted in the middle of builds", .serialized, .tags(.postgres, .rabbitMQ))
struct RestartedServersTests {
    static let restarts: [(name: String, restart: @Sendable () async throws -> Void)] = [
        ("PostgreSQL", { try await TestServers.restartPostgres() }), ("RabbitMQ", { try await TestServers.restartRabbitMQ() }),
    ]

    @Test("restarted while two instances are being prepared: both ACTIVE with one server, one build saga and no event twice")
    func instanceBuilds() async throws {
        try await ControlPlane.with { plane in
            for (server, restart) in Self.restarts {
                let ids = [try await plane.createInstance(name: "first"), try await plane.createInstance(name: "second")]
                try await Self.waitForStep("prepareDatastore", of: "CreateInstance", subject: "instanceId", ids[0], plane)
                try await restart()
                for id in ids {
                    try await plane.waitFor(id, status: "ACTIVE", operating: "HEALTHY", timeout: .seconds(180))
                    try await SagaCrashTests.expectOneServer(id, plane, after: "\(server) restart")
                    let sagas = try await plane.sagas(of: id)
                    #expect(sagas.count == 1 && sagas.first?.last?.type == "SagaCompleted", "\(server): \(sagas.map { $0.map(\.type) })")
                    let history = try await plane.events("instance-\(id)").map(\.type).filter { !$0.hasPrefix("GuestBecame") }
                    #expect(Set(history).count == history.count, "\(server): an event recorded twice: \(history)")
                }
                for id in ids { #expect(try await plane.trove("DELETE", "/instances/\(id)").status == 202) }
                for id in ids { try await plane.waitUntilGone(id) }
            }
            try await ClusterSagaCrashTests.expectNoOpenSaga(plane)
        }
    }

    @Test("restarted while a cluster waits for its members: the cluster becomes ready with its two members, built once")
    func clusterBuilds() async throws {
        try await ControlPlane.with { plane in
            for (server, restart) in Self.restarts {
                let created = try await plane.trove(
                    "POST", "/clusters",
                    [
                        "cluster": [
                            "name": "restart", "datastore": ["type": "postgresql", "version": "15"], "instances": ClusterSagaCrashTests.members,
                        ]
                    ])
                let id = try #require((created.json["cluster"] as? [String: Any])?["id"] as? String, "\(created.json)")
                try await Self.waitForStep("awaitMembers", of: "CreateCluster", subject: "clusterId", id, plane)
                try await restart()
                let ready = try await GaleraClusterTests.waitForTask(id, "NONE", plane, timeout: .seconds(240))
                let members = try #require(ready["instances"] as? [[String: Any]]).compactMap { $0["id"] as? String }
                #expect(members.count == 2, "\(server): \(ready)")
                for member in members {
                    try await SagaCrashTests.expectOneServer(member, plane, after: "\(server) restart")
                    #expect(try await plane.sagas(of: member).count == 1, "\(server): a member built twice")
                }
                let history = try await plane.events("cluster-\(id)").map(\.type)
                #expect(Set(history).count == history.count, "\(server): an event recorded twice: \(history)")
                #expect(try await plane.trove("DELETE", "/clusters/\(id)").status == 202)
                try await GaleraClusterTests.waitUntilGone(id, plane)
            }
            try await ClusterSagaCrashTests.expectNoOpenSaga(plane)
        }
    }

    /// Waits (60 s at most) until a `saga` of `subject` (`instanceId` or `clusterId` of its start) has started `step`.
    static func waitForStep(_ step: String, of saga: String, subject: String, _ id: String, _ plane: ControlPlane) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let rows = try await plane.database.client.query(
                """
                SELECT count(*) FROM events e JOIN events s ON s.stream_id = e.stream_id AND s.stream_version = 1
                WHERE s.event_type = 'SagaStarted' AND s.data ->> 'saga' = \(saga) AND s.data ->> \(subject) = \(id)
                  AND e.event_type = 'SagaStepStarted' AND e.data ->> 'step' = \(step)
                """, logger: TestServers.logger)
            for try await count in rows.decode(Int.self) where count > 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failure("\(saga) of \(id) never started \(step)")
    }
}
