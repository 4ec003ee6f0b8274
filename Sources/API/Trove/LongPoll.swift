import Crypto
import Foundation
import Hummingbird

/// One answer of a long-polled GET: its entity tag and how to render it.
struct PolledAnswer {
    var etag: String
    var render: () throws -> Response

    /// An entity tag over every listed resource's id and stream version: it changes when any of them does, or
    /// when one comes or goes.
    static func listTag(_ versions: [(id: String, version: Int)]) -> String {
        let text = versions.map { "\($0.id):\($0.version)" }.joined(separator: ",")
        let digest = SHA256.hash(data: Data(text.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return "\"\(digest)\""
    }
}

extension TroveAPI {
    /// GET with `ETag`, `If-None-Match` (304) and `?wait=N`: with a matching `If-None-Match`, wait up to N
    /// seconds (at most 60) for the answer to change before answering. Consoles and scripts watch a build this way
    /// instead of polling.
    func longPolled(_ request: Request, answer: () async throws -> PolledAnswer) async throws -> Response {
        let known = request.headers[.ifNoneMatch]
        let wait = min(max(Int(request.uri.queryParameters.get("wait") ?? "0") ?? 0, 0), 60)
        let deadline = ContinuousClock.now + .seconds(wait)
        while true {
            let current = try await answer()
            if known != current.etag {
                var response = try current.render()
                response.headers[.eTag] = current.etag
                return response
            }
            guard ContinuousClock.now < deadline else { return Response(status: .notModified, headers: [.eTag: current.etag]) }
            // Woken by this process's projections; re-checked at least every second for other processes' writes.
            await changes.nextChange(limit: min(deadline - ContinuousClock.now, .seconds(1)))
        }
    }
}
