import API
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The history answers write event times as RFC 3339 in UTC with a `Z` (OpenAPI `date-time`); Trove's own
/// `created`/`updated` keep Trove's zone-less format (`TroveTime` in the document).
@Suite("History event times", .tags(.postgres))
struct HistoryTimeTests {
    static func isRFC3339(_ text: String) -> Bool { text.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/#) != nil }
    static func isTroveTime(_ text: String?) -> Bool { text?.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/#) != nil }

    @Test("instance events and the project's audit trail")
    func eventTimes() async throws {
        try await TroveAPIFixture.with { client, _ in
            let created = try await client.call(.post, "instances", body: createBody())
            let id = try #require(created["instance"]?["id"] as? String)
            let started = Date()
            for path in ["instances/\(id)/events", "events"] {
                let events = try #require(try await client.call(.get, path).body["events"] as? [[String: any Sendable]])
                #expect(!events.isEmpty)
                for event in events {
                    let time = try #require(event["time"] as? String)
                    #expect(Self.isRFC3339(time), "\(path): \(time)")
                    let parsed = try Date(time, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
                    #expect(abs(parsed.timeIntervalSince(started)) < 60, "\(time) is not the UTC time of the event")
                }
            }
            let instance = try #require(created["instance"])
            #expect(Self.isTroveTime(instance["created"] as? String))
            #expect(Self.isTroveTime(instance["updated"] as? String))
        }
    }
}
