import API
import CellarTestSupport
import EventStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Lifecycle
import Testing

/// A database, user or root change waits for the guest's outcome; an instance that is being deleted never gives
/// one, so the wait ends as soon as the delete is recorded (422 while deleting, 404 once gone), and a change to an
/// instance already being deleted is refused up front.
@Suite("Changes to an instance being deleted answer at once", .tags(.postgres))
struct DeletingInstanceTests {
    /// Waits until the instance's stream holds a `GuestChangeRequested` (the change is recorded and waiting).
    static func awaitChangeRecorded(_ id: String, _ database: TestDatabase) async throws -> Int {
        for _ in 0..<400 {
            let events = try await database.eventStore().readStream("instance-\(id)")
            if events.contains(where: { $0.type == "GuestChangeRequested" }) { return events.last?.streamVersion ?? 0 }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("the change was never recorded")
        return 0
    }

    @Test("DELETE database sent together with DELETE instance: 422 at once, not 202 after 60 s")
    func deleteDuringChange() async throws {
        try await TroveAPIFixture.with { client, database in
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            try await InstanceFacts(database).activate(id)
            let started = ContinuousClock.now
            async let change = client.call(.delete, "instances/\(id)/databases/orders")
            _ = try await Self.awaitChangeRecorded(id, database)
            #expect(try await client.call(.delete, "instances/\(id)").status == .accepted)
            let reply = try await change
            #expect(ContinuousClock.now - started < .seconds(10), "the change waited for an outcome that cannot come")
            #expect(reply.status == .unprocessableContent)
            #expect(reply.fault?.name == "unprocessableEntity")
            #expect(reply.fault?.message.contains("Instance \(id) is being deleted") == true, "\(reply.fault?.message ?? "")")
        }
    }

    @Test("the instance gone while the change waits: 404")
    func deletedDuringChange() async throws {
        try await TroveAPIFixture.with { client, database in
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            try await InstanceFacts(database).activate(id)
            let started = ContinuousClock.now
            async let change = client.call(.post, "instances/\(id)/users", body: #"{"users": [{"name": "bob", "password": "pw"}]}"#)
            let version = try await Self.awaitChangeRecorded(id, database)
            // The delete saga of a server that is already gone: both facts land at once.
            let metadata = try JSONEncoder().encode(EventMetadata(service: "taskmanager"))
            _ = try await database.eventStore().append(
                to: "instance-\(id)", expectedVersion: .exact(version),
                events: [
                    NewEvent(
                        type: Instance.Event.deleteRequested.eventType, data: try Instance.Event.deleteRequested.encodedData(), metadata: metadata),
                    NewEvent(
                        type: Instance.Event.instanceDeleted.eventType, data: try Instance.Event.instanceDeleted.encodedData(), metadata: metadata),
                ])
            let reply = try await change
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(reply.status == .notFound)
            #expect(reply.fault?.name == "itemNotFound")
        }
    }

    @Test("a change to an instance already being deleted is refused up front, naming the delete")
    func refusedUpFront() async throws {
        try await TroveAPIFixture.with { client, database in
            let id = try #require(try await client.call(.post, "instances", body: createBody())["instance"]?["id"] as? String)
            try await InstanceFacts(database).activate(id)
            #expect(try await client.call(.delete, "instances/\(id)").status == .accepted)
            let before = try await database.eventStore().readStream("instance-\(id)").count
            let requests: [(HTTPRequest.Method, String, String?)] = [
                (.delete, "instances/\(id)/databases/orders", nil),
                (.post, "instances/\(id)/databases", #"{"databases": [{"name": "more"}]}"#),
                (.put, "instances/\(id)/users", #"{"users": [{"name": "app", "password": "new-horse"}]}"#),
                (.post, "instances/\(id)/root", nil),
                (.delete, "instances/\(id)/root", nil),
            ]
            for (method, path, body) in requests {
                let reply = try await client.call(method, path, body: body)
                #expect(reply.status == .unprocessableContent, "\(method) \(path)")
                #expect(reply.fault?.message.contains("Instance \(id) is being deleted") == true, "\(method) \(path): \(reply.fault?.message ?? "")")
            }
            #expect(try await database.eventStore().readStream("instance-\(id)").count == before, "a refused change was recorded")
        }
    }
}
