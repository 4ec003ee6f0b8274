import AsyncHTTPClient
import CellarTestSupport
import Foundation
import NIOCore
import NIOFoundationCompat
import ObjectStore
import Testing

/// The Swift API client against the private OpenStack Swift (Debian's packages) that `cellar up` runs.
@Suite("Object store: OpenStack Swift", .serialized, .tags(.objectStore))
struct SwiftObjectStoreTests {
    static func store() async throws -> SwiftObjectStore {
        SwiftObjectStore(location: try StoreLocation(url: try await TestServers.objectStoreURL()))
    }

    static func container() -> String { "test-\(UUID().uuidString.prefix(8).lowercased())" }

    /// A plain HTTP request with no credential but what its URL carries.
    static func anonymous(_ method: String, _ url: String, body: Data? = nil) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        if let body { request.body = .bytes(ByteBuffer(data: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), Data(buffer: try await response.body.collect(upTo: 1 << 24)))
    }

    @Test("objects are stored, read back, listed by prefix and deleted; a missing one says so")
    func objects() async throws {
        let store = try await Self.store()
        let container = Self.container()
        try await store.ensureContainer(container)
        try await store.ensureContainer(container)  // idempotent
        let bytes = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0) })
        try await store.put(bytes, container: container, object: "backup-1/part-0")
        try await store.put(Data("two".utf8), container: container, object: "backup-1/part-1")
        try await store.put(Data("other".utf8), container: container, object: "backup-2/part-0")
        #expect(try await store.get(container: container, object: "backup-1/part-0") == bytes)
        let listed = try await store.list(container: container, prefix: "backup-1/")
        #expect(listed.map(\.name) == ["backup-1/part-0", "backup-1/part-1"])
        #expect(listed.map(\.bytes) == [300_000, 3])
        try await store.delete(container: container, object: "backup-1/part-1")
        try await store.delete(container: container, object: "backup-1/part-1")  // gone already: fine
        #expect(try await store.list(container: container, prefix: "backup-1/").map(\.name) == ["backup-1/part-0"])
        await #expect(throws: ObjectStoreError.self) { try await store.get(container: container, object: "backup-1/part-1") }
        #expect(try await store.list(container: "no-such-container", prefix: "").isEmpty)
    }

    @Test("a signed grant writes or reads only its method under its prefix, and only until it expires")
    func signedAccess() async throws {
        let store = try await Self.store()
        let container = Self.container()
        try await store.ensureContainer(container)
        try await store.put(Data("someone else's".utf8), container: container, object: "backup-9/part-0")
        let write = try await store.signedAccess(.put, container: container, prefix: "backup-1/", expiresIn: .seconds(60))
        #expect(try await Self.anonymous("PUT", write.url(for: "part-0"), body: Data("mine".utf8)).status == 201)
        #expect(try await store.get(container: container, object: "backup-1/part-0") == Data("mine".utf8))
        // Not another prefix, not another method, not a listing.
        let outside = write.url(for: "part-0").replacingOccurrences(of: "/backup-1/", with: "/backup-9/")
        #expect(try await Self.anonymous("PUT", outside, body: Data("overwrite".utf8)).status == 401)
        #expect(try await Self.anonymous("GET", outside).status == 401)
        #expect(try await Self.anonymous("GET", write.url(for: "part-0")).status == 401)
        #expect(try await Self.anonymous("DELETE", write.url(for: "part-0")).status == 401)
        #expect(try await store.get(container: container, object: "backup-9/part-0") == Data("someone else's".utf8))
        // A read grant reads, and writes nothing.
        let read = try await store.signedAccess(.get, container: container, prefix: "backup-1/", expiresIn: .seconds(60))
        let fetched = try await Self.anonymous("GET", read.url(for: "part-0"))
        #expect(fetched.status == 200 && fetched.body == Data("mine".utf8))
        #expect(try await Self.anonymous("PUT", read.url(for: "part-1"), body: Data("x".utf8)).status == 401)
        // Expired, or signed with the signature of another prefix.
        let expired = try await store.signedAccess(.get, container: container, prefix: "backup-1/", expiresIn: .seconds(-1))
        #expect(try await Self.anonymous("GET", expired.url(for: "part-0")).status == 401)
        // No credential at all.
        #expect(try await Self.anonymous("GET", read.base + "part-0").status == 401)
    }

    @Test("a wrong key is refused with a clear error; a bad location URL says its form")
    func refusals() async throws {
        let url = try await TestServers.objectStoreURL()
        let good = try StoreLocation(url: url)
        guard case .swiftV1(let authURL, let user, _) = good.authentication else { return }
        let wrong = SwiftObjectStore(location: StoreLocation(authentication: .swiftV1(authURL: authURL, user: user, key: "not-the-key")))
        await #expect(throws: ObjectStoreError(.unauthorized, "logging in as \(user) at \(authURL) answered 401")) {
            try await wrong.ensureContainer("anything")
        }
        #expect(throws: ObjectStoreError.self) { try StoreLocation(url: "swift+http://127.0.0.1:1/auth/v1.0") }
        #expect(throws: ObjectStoreError.self) { try StoreLocation(url: "ftp://a%3Ab:c@127.0.0.1/") }
        let error = try #require(throws: ObjectStoreError.self) { try StoreLocation(url: "swift+http://a%3Ab@127.0.0.1:1/auth/v1.0") }
        #expect(error.message.contains("ACCOUNT%3AUSER:KEY"))
    }

    @Test("objects outlive a restart of the store; the client logs in again by itself")
    func restart() async throws {
        let store = try await Self.store()
        let container = Self.container()
        try await store.ensureContainer(container)
        try await store.put(Data("kept".utf8), container: container, object: "a")
        try await TestServers.restartObjectStore()
        #expect(try await store.get(container: container, object: "a") == Data("kept".utf8))
    }
}
