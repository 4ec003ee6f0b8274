import Foundation

/// Where backups are kept: an object store behind one protocol (the Swift API, Trove's; S3 next), so the backup
/// sagas and guests never depend on which one a cloud has.
///
/// The control plane holds the store's credentials; a guest never does. It gets `signedURL`s instead: each lets
/// one method on the objects under one prefix until it expires, so a tenant with root on its instance can write
/// its own backup in progress and nothing else.
public protocol ObjectStore: Sendable {
    /// Creates `container` if it does not exist (idempotent).
    func ensureContainer(_ container: String) async throws
    /// Stores `data` as `object`, checked by the store against its MD5 on the way in.
    func put(_ data: Data, container: String, object: String) async throws
    /// The object's bytes.
    func get(container: String, object: String) async throws -> Data
    /// The objects whose names start with `prefix`, by name.
    func list(container: String, prefix: String) async throws -> [StoredObject]
    /// Deletes the object; one already gone is not an error.
    func delete(container: String, object: String) async throws
    /// A URL that lets its holder `method` the objects whose names start with `prefix` (append the rest of the
    /// object's name to `SignedAccess.url`) until `expiresIn` has passed, with no other credential.
    func signedAccess(_ method: SignedAccess.Method, container: String, prefix: String, expiresIn: Duration) async throws -> SignedAccess
}

/// An object as a listing shows it.
public struct StoredObject: Sendable, Equatable, Codable {
    public var name: String
    public var bytes: Int
    /// The store's checksum of its content (MD5 hex in Swift and S3 for single-part objects).
    public var etag: String

    public init(name: String, bytes: Int, etag: String) {
        (self.name, self.bytes, self.etag) = (name, bytes, etag)
    }
}

/// A prefix-scoped, expiring grant: `url(for: name)` is the object's URL with the signature.
public struct SignedAccess: Sendable, Equatable, Codable {
    public enum Method: String, Sendable, Codable {
        case get = "GET"
        case put = "PUT"
    }

    public var method: Method
    /// The URL of the prefix itself (`.../container/prefix`), without the signature.
    public var base: String
    /// The query string carrying the signature and expiry.
    public var query: String
    public var expires: Date

    public init(method: Method, base: String, query: String, expires: Date) {
        (self.method, self.base, self.query, self.expires) = (method, base, query, expires)
    }

    /// The signed URL of the object named `prefix + suffix`.
    public func url(for suffix: String) -> String { "\(base)\(ObjectStoreError.pathEscaped(suffix))?\(query)" }
}

/// What went wrong with the store, said so an operator can act.
public struct ObjectStoreError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable { case unreachable, unauthorized, notFound, rejected, corrupted, badLocation }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "object store: \(message)" }

    /// The store answered `status` to `what`, with `body` (its first characters say why).
    init(_ what: String, answered status: Int, body: Data) {
        let kind: Kind =
            switch status {
            case 401, 403: .unauthorized
            case 404: .notFound
            case 422: .corrupted
            default: .rejected
            }
        let detail = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        self.init(kind, "\(what) answered \(status)\(detail.isEmpty ? "" : ": \(detail)")")
    }

    /// `name` with every character outside unreserved ones and `/` percent-encoded.
    static func pathEscaped(_ name: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
    }
}
