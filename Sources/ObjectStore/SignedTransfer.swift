import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// What a guest does with a grant: PUT or GET one object by its signed URL, with no other credential.
public enum SignedTransfer {
    /// How long one object's transfer may take, waiting for the store included: a store that restarts or drops
    /// the connection within it is ridden out (the same bytes are sent again, or read again, from the start), one
    /// gone longer fails the transfer.
    public static let limit = Duration.seconds(60)

    /// Stores `data` at the signed `url`; the store checks the MD5 on the way in.
    public static func put(_ data: Data, to url: String, client: HTTPClient = .shared) async throws {
        let digest = UploadDigest.md5Hex(data)
        let response = try await withRetries(url, client: client) {
            var request = HTTPClientRequest(url: url)
            request.method = .PUT
            request.headers.add(name: "ETag", value: digest)
            request.body = .bytes(ByteBuffer(data: data))
            return request
        }
        guard response.status == 201 else { throw failure("storing an object", response.status, response.body) }
    }

    /// The object at the signed `url`.
    public static func get(_ url: String, client: HTTPClient = .shared) async throws -> Data {
        let response = try await withRetries(url, client: client) { HTTPClientRequest(url: url) }
        guard response.status == 200 else { throw failure("reading an object", response.status, response.body) }
        return response.body
    }

    /// The first answer that is not the store being away (no connection, a dropped one, 502-504), trying again
    /// until `limit` has passed since the first attempt.
    private static func withRetries(
        _ url: String, client: HTTPClient = .shared, _ request: () -> HTTPClientRequest
    ) async throws -> (status: Int, body: Data) {
        let deadline = ContinuousClock.now + limit
        var pause = Duration.milliseconds(200)
        while true {
            let attempt = request()
            do {
                let response = try await client.execute(attempt, timeout: .init(deadline - .now))
                let status = Int(response.status.code)
                let body = Data(buffer: try await response.body.collect(upTo: 1 << 30))
                guard (502...504).contains(status), ContinuousClock.now + pause < deadline else { return (status, body) }
            } catch {
                guard ContinuousClock.now + pause < deadline else {
                    // The URL carries the grant's signature: only the object's path goes into the message.
                    let path = URLComponents(string: url)?.path ?? "?"
                    throw ObjectStoreError(.unreachable, "\(attempt.method.rawValue) \(path) failed for \(limit): \(error)")
                }
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(2))
        }
    }

    private static func failure(_ what: String, _ status: Int, _ body: Data) -> ObjectStoreError {
        ObjectStoreError(what, answered: status, body: body)
    }
}
