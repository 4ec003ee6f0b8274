import CellarCLI
import EventStore
import Foundation

/// Prints events as a readable table row or as one JSON object per line.
struct EventPrinter: Sendable {
    let json: Bool

    func printHeader() {
        guard !json else { return }
        Swift.print(TextTable.row(Self.header, widths: Self.widths))
    }

    func print(_ event: RecordedEvent) {
        if json {
            Swift.print(jsonLine(event))
            return
        }
        let cells = [
            "\(event.globalPosition)", Self.format(event.recordedAt), "\(event.streamID)@\(event.streamVersion)",
            event.type, Self.actor(of: event), String(decoding: event.data, as: UTF8.self),
        ]
        Swift.print(TextTable.row(cells, widths: Self.widths))
    }

    static let header = ["POSITION", "TIME (UTC)", "STREAM@VERSION", "TYPE", "ACTOR", "DATA"]
    static let widths = [9, 23, 48, 26, 34, 0]

    /// The user id for a person (`--json` has the project and roles too), `service:name` for a Cellar process,
    /// `-` when unknown.
    static func actor(of event: RecordedEvent) -> String {
        guard let metadata = event.decodedMetadata else { return "-" }
        if let actor = metadata.actor { return actor.userID }
        if let service = metadata.service { return "service:\(service)" }
        return "-"
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeSeparator(.colon))
    }

    private func jsonLine(_ event: RecordedEvent) -> String {
        let data = (try? JSONSerialization.jsonObject(with: event.data)) ?? [:]
        let metadata = (try? JSONSerialization.jsonObject(with: event.metadata)) ?? [:]
        let object: [String: Any] = [
            "position": event.globalPosition, "stream": event.streamID, "version": event.streamVersion,
            "type": event.type, "recorded_at": Self.format(event.recordedAt), "data": data, "metadata": metadata,
        ]
        let encoded = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: encoded, as: UTF8.self)
    }
}
