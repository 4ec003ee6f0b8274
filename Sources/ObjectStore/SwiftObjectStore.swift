import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat

/// The Swift API (Trove's store): v1 authentication, containers and objects, and TempURLs for guests.
public actor SwiftObjectStore: ObjectStore {
    private let location: StoreLocation
    private let client: HTTPClient
    private var session: (storageURL: String, token: String)?
    private var tempURLKey: String?

    public init(location: StoreLocation, client: HTTPClient = .shared) {
        self.location = location
        self.client = client
    }

    public func ensureContainer(_ container: String) async throws {
        let response = try await send("PUT", path: "/\(escaped(container))")
        guard [201, 202].contains(response.status) else { throw refusal("creating container \(container)", response) }
    }

    public func put(_ data: Data, container: String, object: String) async throws {
        let digest = UploadDigest.md5Hex(data)
        let response = try await send("PUT", path: "/\(escaped(container))/\(escaped(object))", headers: ["ETag": digest], body: data)
        guard response.status == 201 else { throw refusal("storing \(container)/\(object)", response) }
    }

    public func get(container: String, object: String) async throws -> Data {
        let response = try await send("GET", path: "/\(escaped(container))/\(escaped(object))")
        guard response.status == 200 else { throw refusal("reading \(container)/\(object)", response) }
        return response.body
    }

    public func list(container: String, prefix: String) async throws -> [StoredObject] {
        var found: [StoredObject] = []
        var marker = ""
        while true {
            var query = URLComponents()
            query.queryItems = [.init(name: "format", value: "json"), .init(name: "prefix", value: prefix), .init(name: "marker", value: marker)]
            let response = try await send("GET", path: "/\(escaped(container))?\(query.percentEncodedQuery ?? "")")
            if response.status == 404 { return [] }
            guard response.status == 200 || response.status == 204 else { throw refusal("listing \(container)", response) }
            struct Entry: Decodable {
                var name: String
                var bytes: Int
                var hash: String
            }
            let page = response.body.isEmpty ? [] : try JSONDecoder().decode([Entry].self, from: response.body)
            found += page.map { StoredObject(name: $0.name, bytes: $0.bytes, etag: $0.hash) }
            guard let last = page.last else { return found }
            marker = last.name
        }
    }

    public func delete(container: String, object: String) async throws {
        let response = try await send("DELETE", path: "/\(escaped(container))/\(escaped(object))")
        guard [204, 404].contains(response.status) else { throw refusal("deleting \(container)/\(object)", response) }
    }

    public func signedAccess(_ method: SignedAccess.Method, container: String, prefix: String, expiresIn: Duration) async throws -> SignedAccess {
        let (storageURL, _) = try await currentSession()
        let key = try await accountTempURLKey()
        let expires = Int(Date().timeIntervalSince1970) + Int(expiresIn.components.seconds)
        guard let accountPath = URLComponents(string: storageURL)?.path else {
            throw ObjectStoreError(.rejected, "the store's storage URL \(storageURL) has no path")
        }
        // Swift's TempURL: HMAC-SHA256 over "METHOD\nEXPIRES\nprefix:/v1/ACCOUNT/CONTAINER/PREFIX".
        let scope = "prefix:\(accountPath)/\(container)/\(prefix)"
        let signature = HMAC<SHA256>.authenticationCode(
            for: Data("\(method.rawValue)\n\(expires)\n\(scope)".utf8), using: SymmetricKey(data: Data(key.utf8)))
        let hex = signature.map { String(format: "%02x", $0) }.joined()
        var query = URLComponents()
        query.queryItems = [
            .init(name: "temp_url_sig", value: hex), .init(name: "temp_url_expires", value: "\(expires)"),
            .init(name: "temp_url_prefix", value: prefix),
        ]
        return SignedAccess(
            method: method, base: "\(storageURL)/\(escaped(container))/\(escaped(prefix))", query: query.percentEncodedQuery ?? "",
            expires: Date(timeIntervalSince1970: TimeInterval(expires)))
    }

    // MARK: - The account's TempURL key

    /// The account's `Temp-URL-Key`: read once, set to a random one when the account has none.
    private func accountTempURLKey() async throws -> String {
        if let tempURLKey { return tempURLKey }
        let head = try await send("HEAD", path: "")
        guard (200..<300).contains(head.status) else { throw refusal("reading the account", head) }
        if let existing = head.headers["x-account-meta-temp-url-key"], !existing.isEmpty {
            tempURLKey = existing
            return existing
        }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
        let set = try await send("POST", path: "", headers: ["X-Account-Meta-Temp-URL-Key": key])
        guard (200..<300).contains(set.status) else { throw refusal("setting the account's TempURL key", set) }
        tempURLKey = key
        return key
    }

    // MARK: - Requests

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data
    }

    /// Sends a request to `storageURL + path` with the session's token; logs in again once when it expired.
    private func send(_ method: String, path: String, headers: [String: String] = [:], body: Data? = nil) async throws -> Response {
        for attempt in 0..<2 {
            let (storageURL, token) = try await currentSession()
            var request = HTTPClientRequest(url: storageURL + path)
            request.method = .init(rawValue: method)
            request.headers.add(name: "X-Auth-Token", value: token)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body { request.body = .bytes(ByteBuffer(data: body)) }
            let response = try await execute(request)
            if response.status == 401, attempt == 0 {
                session = nil
                continue
            }
            return response
        }
        throw ObjectStoreError(.unauthorized, "the store refused a fresh token")
    }

    private func currentSession() async throws -> (storageURL: String, token: String) {
        if let session { return session }
        switch location.authentication {
        case .swiftV1(let authURL, let user, let key):
            // A store that is starting (or restarting) may refuse a login for a moment: tried for 10 s.
            let deadline = ContinuousClock.now + .seconds(10)
            while true {
                var request = HTTPClientRequest(url: authURL)
                request.headers.add(name: "X-Auth-User", value: user)
                request.headers.add(name: "X-Auth-Key", value: key)
                let answer: Response
                do { answer = try await execute(request) } catch {
                    guard ContinuousClock.now < deadline else { throw error }
                    try await Task.sleep(for: .milliseconds(500))
                    continue
                }
                if answer.status == 200, let storageURL = answer.headers["x-storage-url"], let token = answer.headers["x-auth-token"] {
                    session = (storageURL, token)
                    return (storageURL, token)
                }
                guard answer.status != 401, ContinuousClock.now < deadline else {
                    if answer.status == 401 { throw ObjectStoreError(.unauthorized, "logging in as \(user) at \(authURL) answered 401") }
                    throw ObjectStoreError("logging in as \(user) at \(authURL)", answered: answer.status, body: answer.body)
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    private func execute(_ request: HTTPClientRequest) async throws -> Response {
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            var headers: [String: String] = [:]
            for header in response.headers { headers[header.name.lowercased()] = header.value }
            let body = try await response.body.collect(upTo: 1 << 30)
            return Response(status: Int(response.status.code), headers: headers, body: Data(buffer: body))
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            throw ObjectStoreError(.unreachable, "\(request.method.rawValue) \(request.url.prefix { $0 != "?" }) failed: \(error)")
        }
    }

    private func refusal(_ what: String, _ response: Response) -> ObjectStoreError {
        ObjectStoreError(what, answered: response.status, body: response.body)
    }

    private nonisolated func escaped(_ name: String) -> String { ObjectStoreError.pathEscaped(name) }
}

/// The MD5 Swift and S3 check an upload against (`ETag`), in hex.
enum UploadDigest {
    static func md5Hex(_ data: Data) -> String { Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined() }
}
