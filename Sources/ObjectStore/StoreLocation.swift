import Foundation

/// Which object store, and how to log in to it, from one URL (`CELLAR_BACKUP_STORE_URL`; `cellar up` makes one
/// for its private Swift).
///
/// - `swift+http://ACCOUNT%3AUSER:KEY@HOST:PORT/auth/v1.0`: a Swift with tempauth (v1 authentication).
/// - `swift+https://...` the same over TLS.
public struct StoreLocation: Sendable, Equatable {
    public enum Authentication: Sendable, Equatable {
        /// Swift's v1 authentication (tempauth, swauth): `X-Auth-User`/`X-Auth-Key` at `authURL`.
        case swiftV1(authURL: String, user: String, key: String)
    }

    public var authentication: Authentication

    public init(authentication: Authentication) { self.authentication = authentication }

    /// Parses the URL; the error says what the form is (and never repeats the key).
    public init(url text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme, let host = components.host else {
            throw ObjectStoreError(
                .badLocation, "CELLAR_BACKUP_STORE_URL is not a URL (expected swift+http://ACCOUNT%3AUSER:KEY@HOST:PORT/auth/v1.0)")
        }
        switch scheme {
        case "swift+http", "swift+https":
            guard let user = components.percentEncodedUser?.removingPercentEncoding, user.contains(":"),
                let key = components.percentEncodedPassword?.removingPercentEncoding, !key.isEmpty
            else {
                throw ObjectStoreError(
                    .badLocation,
                    "CELLAR_BACKUP_STORE_URL needs the user as ACCOUNT%3AUSER and its key: swift+http://ACCOUNT%3AUSER:KEY@HOST:PORT/auth/v1.0")
            }
            let port = components.port.map { ":\($0)" } ?? ""
            let path = components.path.isEmpty ? "/auth/v1.0" : components.path
            let authURL = "\(scheme.dropFirst("swift+".count))://\(host)\(port)\(path)"
            authentication = .swiftV1(authURL: authURL, user: user, key: key)
        default:
            throw ObjectStoreError(.badLocation, "CELLAR_BACKUP_STORE_URL has scheme \(scheme); Cellar knows swift+http and swift+https")
        }
    }
}
