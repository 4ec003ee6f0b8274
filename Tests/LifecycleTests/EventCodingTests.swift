import Foundation
import Lifecycle
import Testing

/// Events as the store keeps them: `(event_type, data)` and the `{"type", "data"}` envelope.
@Suite("Event coding")
struct EventCodingTests {
    func roundTrips<E: DomainEvent>(_ events: [E]) throws {
        for event in events {
            let data = try event.encodedData()
            #expect(data.first == UInt8(ascii: "{"), "\(event.eventType) data is not a JSON object")
            #expect(try E.decode(eventType: event.eventType, data: data) == event)
            let envelope = try EventJSON.encoder().encode(event)
            #expect(try EventJSON.decoder().decode(E.self, from: envelope) == event)
            #expect(E.eventTypes.contains(event.eventType))
        }
    }

    @Test("every instance, backup and cluster event round-trips")
    func roundTrip() throws {
        try roundTrips(Samples.instanceEvents)
        try roundTrips(Samples.backupEvents)
        try roundTrips(Samples.clusterEvents)
    }

    @Test("payloads are plain JSON objects with stable keys")
    func stableShapes() throws {
        #expect(String(decoding: try Instance.Event.restartRequested.encodedData(), as: UTF8.self) == "{}")
        let allocated = Instance.Event.computeAllocated(.init(serverId: "srv-1", address: "127.0.3.7"))
        #expect(String(decoding: try allocated.encodedData(), as: UTF8.self) == #"{"address":"127.0.3.7","serverId":"srv-1"}"#)
        let failed = Instance.Event.instanceFailed(Failure(reason: "x", at: Clock.t0.addingTimeInterval(0.25)))
        #expect(String(decoding: try failed.encodedData(), as: UTF8.self) == #"{"at":"2026-01-01T00:00:00.250Z","reason":"x"}"#)
        #expect(
            String(decoding: try EventJSON.encoder().encode(Instance.Event.guestRegistered), as: UTF8.self)
                == #"{"data":{},"type":"GuestRegistered"}"#)
    }

    @Test("stored data written without fractional seconds or optional keys still decodes")
    func lenientDecoding() throws {
        let failed = try Instance.Event.decode(
            eventType: "InstanceFailed", data: Data(#"{"reason":"x","at":"2026-01-01T00:00:00Z"}"#.utf8))
        #expect(failed == .instanceFailed(Failure(reason: "x", at: Clock.t0)))
        let detach = try Cluster.Event.decode(eventType: "ClusterConfigurationChangeRequested", data: Data("{}".utf8))
        #expect(detach == .clusterConfigurationChangeRequested(.init(configurationId: nil)))
    }

    @Test("an unknown event type is an error the caller can skip")
    func unknownType() {
        #expect(throws: UnknownEventType(aggregate: "Instance", eventType: "InstanceTeleported")) {
            try Instance.Event.decode(eventType: "InstanceTeleported", data: Data("{}".utf8))
        }
        #expect(throws: UnknownEventType(aggregate: "Backup", eventType: "Nope")) {
            try Backup.Event.decode(eventType: "Nope", data: Data("{}".utf8))
        }
        #expect(UnknownEventType(aggregate: "Cluster", eventType: "X").description == #"unknown Cluster event type "X""#)
    }
}

@Suite("Secret names")
struct SecretNameTests {
    @Test("a secret name's key reads back as the same name; keys Cellar never writes read as nil")
    func keys() {
        for name in [SecretName.root, .user("app", host: "%"), .user("bob", host: "10.0.0.%"), .user("ops", host: "host@domain")] {
            #expect(SecretName(key: name.key) == name, "\(name.key)")
        }
        #expect(SecretName.user("app", host: "%").key == "user:app@%")
        #expect(SecretName(key: "user:nohost") == nil)
        #expect(SecretName(key: "replication") == nil)
    }
}
