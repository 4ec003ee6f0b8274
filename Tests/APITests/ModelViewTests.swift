import APICore
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Lifecycle
import ReadModels
import Testing

@testable import API

/// Trove's backup JSON, built from a backup folded through real transitions.
@Suite("Backup and cluster JSON models")
struct ModelViewTests {
    @Test("a completed backup renders Trove's keys, with nulls where Trove writes them")
    func backupView() throws {
        let chart = TroveAPIFixture.charts.backup
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var state = Backup.State(chart: chart)
        let commands: [Backup.Command] = [
            .create(
                .init(
                    id: "bk-1", projectId: "alpha", name: "nightly", instanceId: "i-1",
                    datastore: Datastore(type: "postgresql", version: "15"))),
            .recordBuildStarted, .recordSaveStarted,
            .recordCompleted(locationRef: "file:///backups/bk-1", size: 0.25, checksum: "abc"),
        ]
        for command in commands {
            for event in try Backup.decide(command, state: state, chart: chart, at: now) {
                state = Backup.evolve(state, event, chart: chart)
            }
        }
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(BackupView(state, updated: now))) as? [String: Any]
        let backup = try #require(json)
        #expect(backup["status"] as? String == "COMPLETED")
        #expect(backup["instance_id"] as? String == "i-1")
        #expect(backup["project_id"] as? String == "alpha")
        #expect(backup["locationRef"] as? String == "file:///backups/bk-1")
        #expect(backup["size"] as? Double == 0.25)
        #expect(backup["parent_id"] is NSNull)
        #expect((backup["datastore"] as? [String: Any])?["version"] as? String == "15")
        #expect(
            Set(backup.keys) == [
                "id", "name", "description", "locationRef", "instance_id", "created", "updated", "size",
                "status", "parent_id", "project_id", "datastore",
            ])
    }

    @Test("a building cluster renders its task and members with links")
    func clusterView() async throws {
        let chart = TroveAPIFixture.charts.cluster
        let members = (1...3).map { Cluster.Member(id: "m-\($0)", name: "galera-\($0)", flavorId: "2", volumeSize: 1) }
        var state = Cluster.State(chart: chart)
        let create = Cluster.Command.create(
            .init(
                id: "cl-1", projectId: "alpha", name: "galera",
                datastore: Datastore(type: "mariadb", version: "10.11"), members: members))
        for event in try Cluster.decide(create, state: state, chart: chart, at: Date()) {
            state = Cluster.evolve(state, event, chart: chart)
        }
        let folded = state
        let router = Router(context: CellarRequestContext.self)
        let record = ClusterRecord(state: folded, created: Date(), updated: Date())
        router.get("/v") { request, _ in try JSONResponse.make(["cluster": ClusterView(record, members: nil, request: request)]) }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/v", method: .get, headers: [.init("Host")!: "cellar.test"]) { response in
                let json = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                let cluster = try #require(json?["cluster"] as? [String: Any])
                let task = try #require(cluster["task"] as? [String: Any])
                #expect(task["name"] as? String == "BUILDING")
                #expect(task["id"] as? Int == 2)
                let instances = try #require(cluster["instances"] as? [[String: Any]])
                #expect(instances.map { $0["id"] as? String } == ["m-1", "m-2", "m-3"])
                #expect(instances.allSatisfy { $0["type"] as? String == "member" })
                let links = try #require(cluster["links"] as? [[String: Any]])
                #expect((links.first?["href"] as? String)?.hasSuffix("/v1.0/alpha/clusters/cl-1") == true)
            }
        }
    }
}
