import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// What a guest does with a grant: PUT or GET one object by its signed URL, with no other credential.
public enum SignedTransfer {
    /// How long one object's transfer may take, waiting for the store included: a store restarted within it is
    /// ridden out (the connection is tried again until then), one gone longer fails the transfer.
    public static let limit = Duration.seconds(60)

    /// Stores `data` at the signed `url`; the store checks the MD5 on the way in.
    public static func put(_ data: Data, to url: String, client: HTTPClient = .shared) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .PUT
        request.headers.add(name: "ETag", value: UploadDigest.md5Hex(data))
        request.body = .bytes(ByteBuffer(data: data))
        let response = try await execute(request, client: client)
        guard response.status == 201 else { throw failure("storing an object", response.status, response.body) }
    }

    /// The object at the signed `url`.
    public static func get(_ url: String, client: HTTPClient = .shared) async throws -> Data {
        let response = try await execute(HTTPClientRequest(url: url), client: client)
        guard response.status == 200 else { throw failure("reading an object", response.status, response.body) }
        return response.body
    }

    private static func execute(_ request: HTTPClientRequest, client: HTTPClient) async throws -> (status: Int, body: Data) {
        do {
            let response = try await client.execute(request, timeout: .init(limit))
            let body = try await response.body.collect(upTo: 1 << 30)
            return (Int(response.status.code), Data(buffer: body))
        } catch {
            // The URL carries the grant's signature: only the object's path goes into the message.
            let path = URLComponents(string: request.url)?.path ?? "?"
            throw ObjectStoreError(.unreachable, "\(request.method.rawValue) \(path) failed: \(error)")
        }
    }

    private static func failure(_ what: String, _ status: Int, _ body: Data) -> ObjectStoreError {
        ObjectStoreError(what, answered: status, body: body)
    }
}
