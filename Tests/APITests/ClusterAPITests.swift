import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Lifecycle
import Testing

/// `/clusters` over a real database, without a task manager: what the API records and answers on its own.
@Suite("Clusters API", .tags(.postgres))
struct ClusterAPITests {
    static func body(name: String = "c1", members: [String]) -> String {
        let list = members.map { #"{"flavorRef": "1", "volume": {"size": 2}, "name": "\#($0)"}"# }.joined(separator: ", ")
        return #"{"cluster": {"name": "\#(name)", "datastore": {"type": "mariadb", "version": "10.11"}, "instances": [\#(list)]}}"#
    }

    @Test("create answers 200 in BUILDING with the members as given, names kept even when the same; list and show")
    func createListShow() async throws {
        try await TroveAPIFixture.with { client, _ in
            let created = try await client.call(.post, "clusters", body: Self.body(members: ["node", "node", "node"]))
            #expect(created.status == .ok, "\(created.body)")
            let cluster = try #require(created.body["cluster"] as? [String: any Sendable])
            let id = try #require(cluster["id"] as? String)
            #expect((cluster["task"] as? [String: any Sendable])?["name"] as? String == "BUILDING")
            let members = try #require(cluster["instances"] as? [[String: any Sendable]])
            #expect(members.compactMap { $0["name"] as? String } == ["node", "node", "node"])
            #expect(Set(members.compactMap { $0["id"] as? String }).count == 3)
            #expect(members.allSatisfy { $0["status"] as? String == "BUILD" && $0["type"] as? String == "member" })
            #expect((cluster["extended_properties"] as? [String: any Sendable])?["algorithm"] as? String == "roundrobin")

            let listed = try await client.call(.get, "clusters")
            #expect((listed.body["clusters"] as? [[String: any Sendable]])?.compactMap { $0["id"] as? String } == [id])
            #expect(try await client.call(.get, "clusters/\(id)").status == .ok)
            #expect(try await client.call(.get, "clusters/\(id)", as: "other", project: "beta").status == .notFound, "another project's cluster")
            #expect((try await client.call(.get, "clusters", as: "other", project: "beta").body["clusters"] as? [Any])?.isEmpty == true)
            // Nothing but reset-status and delete while it builds; reset-status is for admins.
            #expect(try await client.call(.post, "clusters/\(id)", body: #"{"restart": {}}"#).status == .unprocessableContent)
            #expect(try await client.call(.post, "clusters/\(id)", body: #"{"reset-status": {}}"#).status == .forbidden)
            #expect(try await client.call(.post, "clusters/\(id)", body: #"{"restart": {}, "grow": []}"#).status == .badRequest)
            #expect(try await client.call(.post, "clusters/\(id)", body: #"{"upgrade": {"datastore_version": "11"}}"#).status == .badRequest)
            #expect(
                try await client.call(.get, "clusters/\(id)/instances/\(try #require(members.first?["id"] as? String))").status == .notFound,
                "a member the cluster's saga has not created yet")
            #expect(try await client.call(.delete, "clusters/\(id)").status == .accepted)
            #expect(try await client.call(.get, "clusters/\(id)").status == .ok, "shown while DELETING")
        }
    }

    static func postgresBody(_ members: String, properties: String = "{}") -> String {
        #"{"cluster": {"name": "pg", "datastore": {"type": "postgresql", "version": "15"}, "instances": [\#(members)], "extended_properties": \#(properties)}}"#
    }

    @Test("PostgreSQL clusters are active-passive: roles, weights and synchronous mode as given; bad weights, properties and shrinks are 400s")
    func activePassive() async throws {
        try await TroveAPIFixture.with { client, _ in
            let member = #"{"flavorRef": "1", "volume": {"size": 1}}"#
            let created = try await client.call(
                .post, "clusters",
                body: Self.postgresBody(
                    "\(member), \(member), \(member)",
                    properties: #"{"weights": "50:100:0", "synchronous": "true"}"#))
            #expect(created.status == .ok, "\(created.body)")
            let cluster = try #require(created.body["cluster"] as? [String: any Sendable])
            let members = try #require(cluster["instances"] as? [[String: any Sendable]])
            #expect(members.compactMap { $0["role"] as? String } == ["primary", "replica", "replica"])
            #expect(members.compactMap { $0["weight"] as? Int } == [50, 100, 0])
            #expect((cluster["extended_properties"] as? [String: any Sendable])?["synchronous"] as? String == "true")
            let weighted = try await client.call(
                .post, "clusters",
                body: Self.postgresBody(
                    #"{"flavorRef": "1", "volume": {"size": 1}, "weight": 7}, {"flavorRef": "1", "volume": {"size": 1}, "weight": "0"}"#))
            #expect(
                ((weighted.body["cluster"] as? [String: any Sendable])?["instances"] as? [[String: any Sendable]])?.compactMap {
                    $0["weight"] as? Int
                } == [7, 0],
                "weights in the member dicts, as the python API passes them: \(weighted.body)")

            // python code sends JSON values: a boolean and a list of numbers, as the strings the CLI sends.
            let typed = try await client.call(
                .post, "clusters",
                body: Self.postgresBody(
                    "\(member), \(member)",
                    properties: #"{"weights": [30, 60], "synchronous": true}"#))
            #expect(typed.status == .ok, "\(typed.body)")
            let typedCluster = try #require(typed.body["cluster"] as? [String: any Sendable])
            #expect((typedCluster["instances"] as? [[String: any Sendable]])?.compactMap { $0["weight"] as? Int } == [30, 60])
            #expect((typedCluster["extended_properties"] as? [String: any Sendable])?["synchronous"] as? String == "true")

            for (body, words) in [
                (Self.postgresBody("\(member), \(member)", properties: #"{"synchronous": 1}"#), "true or false"),
                (Self.postgresBody("\(member), \(member)", properties: #"{"weights": [1, 2, 3]}"#), "one per instance"),
                (Self.postgresBody("\(member), \(member)", properties: #"{"weights": [1, 1001]}"#), "0 (never promoted) to 1000"),
                (Self.postgresBody("\(member), \(member)", properties: #"{"algorithm": true}"#), "roundrobin or leastconn"),
                (Self.postgresBody("\(member), \(member)", properties: #"{"synchronous": {"a": 1}}"#), "extended_properties"),
                (Self.postgresBody(member), "at least 2"),
                (Self.postgresBody("\(member), \(member)", properties: #"{"weights": "1:2:3"}"#), "one per instance"),
                (Self.postgresBody("\(member), \(member)", properties: #"{"weights": "1:1001"}"#), "0 (never promoted) to 1000"),
                (Self.postgresBody("\(member), \(member)", properties: #"{"synchronous": "maybe"}"#), "true or false"),
                (Self.postgresBody("\(member), \(member)", properties: #"{"replicas": "2"}"#), "Unknown extended property"),
                (Self.postgresBody(#"{"flavorRef": "1", "volume": {"size": 1}, "weight": -1}, \#(member)"#), "0 (never promoted) to 1000"),
                (
                    #"{"cluster": {"name": "g", "datastore": {"type": "mariadb", "version": "10.11"}, "instances": [{"flavorRef": "1", "volume": {"size": 1}, "weight": 5}, \#(member), \#(member)]}}"#,
                    "active-passive"
                ),
            ] {
                let refused = try await client.call(.post, "clusters", body: body)
                #expect(refused.status == .badRequest && (refused.fault?.message ?? "").contains(words), "\(body): \(refused.body)")
            }
        }
    }

    @Test(
        "cluster root: GET says false until enabled; POST needs a member that is ACTIVE, a task of NONE and a writer; another project's cluster is 404"
    )
    func clusterRoot() async throws {
        try await TroveAPIFixture.with { client, _ in
            let created = try await client.call(.post, "clusters", body: Self.body(members: ["a", "b", "c"]))
            let id = try #require((created.body["cluster"] as? [String: any Sendable])?["id"] as? String)
            let shown = try await client.call(.get, "clusters/\(id)/root")
            #expect(shown.status == .ok && shown.body["rootEnabled"] as? Int == 0, "\(shown.body)")  // JSON false, read as a number
            // No task manager here: the members never become ACTIVE, so no guest can set the password.
            let refused = try await client.call(.post, "clusters/\(id)/root")
            #expect(refused.status == .unprocessableContent && (refused.fault?.message ?? "").contains("no ACTIVE member"), "\(refused.body)")
            let badPassword = try await client.call(.post, "clusters/\(id)/root", body: #"{"password": ""}"#)
            #expect(badPassword.status == .badRequest, "\(badPassword.body)")
            #expect(try await client.call(.get, "clusters/\(id)/root", as: "other", project: "beta").status == .notFound)
            #expect(try await client.call(.post, "clusters/\(id)/root", as: "other", project: "beta").status == .notFound)
            #expect(try await client.call(.get, "clusters/0000/root").status == .notFound)
        }
    }

    @Test("as_of answers the cluster as its log was then (404 before it); the list's ETag changes with the cluster")
    func timeTravelAndListTag() async throws {
        try await TroveAPIFixture.with { client, database in
            let member = #"{"flavorRef": "1", "volume": {"size": 1}}"#
            let created = try await client.call(
                .post, "clusters", body: Self.postgresBody("\(member), \(member)", properties: #"{"weights": "10:20"}"#))
            let id = try #require((created.body["cluster"] as? [String: any Sendable])?["id"] as? String)
            let listed = try await client.call(.get, "clusters")
            let tag = try #require(listed.headers[.eTag])
            #expect(try await client.call(.get, "clusters?wait=0", headers: [.ifNoneMatch: tag]).status == .notModified)
            let shown = try #require(try await client.call(.get, "clusters/\(id)").headers[.eTag])
            #expect(try await client.call(.get, "clusters/\(id)?wait=0", headers: [.ifNoneMatch: shown]).status == .notModified)
            #expect(try await client.call(.delete, "clusters/\(id)").status == .accepted)
            #expect(try await client.call(.get, "clusters/\(id)?wait=5", headers: [.ifNoneMatch: shown]).status == .ok)
            let changed = try await client.call(.get, "clusters?wait=5", headers: [.ifNoneMatch: tag])
            #expect(changed.status == .ok && changed.headers[.eTag] != tag)

            let events = try await database.eventStore().readStream("cluster-\(id)")
            let first = try #require(events.first?.globalPosition)
            #expect(try await client.call(.get, "clusters/\(id)?as_of=\(first - 1)").status == .notFound)
            let past = try await client.call(.get, "clusters/\(id)?as_of=\(first)")
            let cluster = try #require(past.body["cluster"] as? [String: any Sendable], "\(past.body)")
            #expect((cluster["task"] as? [String: any Sendable])?["name"] as? String == "BUILDING")
            let folded = Cluster.replay(
                [try Cluster.Event.decode(eventType: events[0].type, data: events[0].data)], chart: TroveAPIFixture.charts.cluster)
            #expect(cluster["lifecycle_state"] as? String == folded.leaf)
            #expect((cluster["instances"] as? [[String: any Sendable]])?.compactMap { $0["weight"] as? Int } == [10, 20])
            let now = try await client.call(.get, "clusters/\(id)?as_of=\(try #require(events.last?.globalPosition))")
            let live = try await client.call(.get, "clusters/\(id)")
            #expect(
                (now.body["cluster"] as? [String: any Sendable])?["task"] as? [String: any Sendable] as NSDictionary?
                    == (live.body["cluster"] as? [String: any Sendable])?["task"] as? [String: any Sendable] as NSDictionary?)
            #expect(
                (now.body["cluster"] as? [String: any Sendable])?["lifecycle_state"] as? String
                    == (live.body["cluster"] as? [String: any Sendable])?["lifecycle_state"] as? String)
            #expect(
                try await client.call(.get, "clusters/\(id)?as_of=\(first)", as: "other", project: "beta").status == .notFound,
                "another project's past")
            #expect(try await client.call(.get, "clusters/\(id)?as_of=soon").status == .badRequest)
        }
    }

    @Test("members count against the quotas from the moment the cluster is accepted")
    func quotas() async throws {
        try await TroveAPIFixture.with { client, _ in
            #expect(
                try await client.call(.put, "mgmt/quotas/alpha", as: "admin", project: "ops", body: #"{"quotas": {"instances": 4}}"#).status == .ok)
            #expect(try await client.call(.post, "clusters", body: Self.body(members: ["a", "b", "c"])).status == .ok)
            let second = try await client.call(.post, "clusters", body: Self.body(name: "c2", members: ["d", "e", "f"]))
            #expect(second.status == .contentTooLarge, "\(second.body)")
            #expect((second.fault?.message ?? "").contains("instances"), "\(second.body)")
            let instance = try await client.call(
                .post, "instances",
                body: #"""
                    {"instance": {"name": "one", "flavorRef": "1", "volume": {"size": 1}, "datastore": {"type": "mariadb", "version": "10.11"}}}
                    """#)
            #expect(instance.status == .ok, "the fourth instance fits: \(instance.body)")
            #expect(
                try await client.call(
                    .post, "instances",
                    body: #"""
                        {"instance": {"name": "two", "flavorRef": "1", "volume": {"size": 1}, "datastore": {"type": "mariadb", "version": "10.11"}}}
                        """#
                ).status == .contentTooLarge)
            #expect((try await client.call(.get, "clusters").body["clusters"] as? [Any])?.count == 1, "the refused cluster was recorded")
        }
    }
}
