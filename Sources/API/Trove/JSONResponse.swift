import APICore
import Foundation
import Hummingbird

/// JSON responses and the small conventions Trove's views share (links, dates).
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// 202 with no body (what Trove answers to accepted actions).
    static func accepted() -> Response { Response(status: .accepted) }

    /// The time of an event in the history answers: RFC 3339 in UTC with milliseconds and `Z`
    /// (`2026-12-05T14:07:23.123Z`), OpenAPI's `date-time`.
    static func eventTime(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    /// Trove's timestamp format: `2026-11-25T12:30:00` in UTC, without a zone, as Trove writes `created`,
    /// `updated` and fault times (the OpenAPI document's `TroveTime`).
    static func timestamp(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day().time(includingFractionalSeconds: false)
                .timeSeparator(.colon).dateTimeSeparator(.standard))
    }
}

/// `{"href": ..., "rel": "self"|"bookmark"|"next"}`.
struct Link: Encodable, Sendable {
    var href: String
    var rel: String

    /// Self and bookmark links to `collection/id`, under the public base URL (never the request's Host header).
    static func resource(_ request: Request, project: String, collection: String, id: String) -> [Link] {
        let base = baseURL(request)
        return [
            Link(href: "\(base)/v1.0/\(project)/\(collection)/\(id)", rel: "self"),
            Link(href: "\(base)/\(collection)/\(id)", rel: "bookmark"),
        ]
    }

    static func baseURL(_ request: Request) -> String { PublicBaseURL.base(for: request) }
}
