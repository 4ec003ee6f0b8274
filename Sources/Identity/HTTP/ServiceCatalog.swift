import APICore
import Hummingbird

/// The service catalog a token carries: Trove's `database` endpoint per project and the `identity` endpoint.
public struct ServiceCatalog: Sendable {
    /// The public base URL clients reach Cellar at (e.g. `http://127.0.0.1:8779`); nil builds it from each
    /// request's Host header.
    public var publicURL: String?
    /// The region every endpoint is in.
    public var region: String

    /// - Parameter publicURL: e.g. `http://127.0.0.1:8779` (a trailing `/` is ignored); nil: from the Host header.
    public init(publicURL: String?, region: String = "RegionOne") {
        self.publicURL = publicURL.map { url in
            var trimmed = Substring(url)
            while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
            return String(trimmed)
        }
        self.region = region
    }

    /// The base URL for answers to `request`: the catalog's public URL, else Cellar's (`PublicBaseURL`).
    public func baseURL(for request: Request) -> String { publicURL ?? PublicBaseURL.base(for: request) }

    /// The interfaces every endpoint is published on; clients pick `public` by default.
    public static let interfaces = ["public", "internal", "admin"]

    /// The catalog for a token scoped to `projectID`.
    func entries(projectID: String, baseURL: String) -> KeystoneJSON {
        [
            service(type: "database", name: "trove", id: "trove", url: "\(baseURL)/v1.0/\(projectID)"),
            service(type: "identity", name: "keystone", id: "keystone", url: "\(baseURL)/v3"),
        ]
    }

    private func service(type: String, name: String, id: String, url: String) -> KeystoneJSON {
        let endpoints = Self.interfaces.map { interface -> KeystoneJSON in
            [
                "id": .string("\(id)-\(interface)"), "interface": .string(interface), "region": .string(region),
                "region_id": .string(region), "url": .string(url),
            ]
        }
        return ["type": .string(type), "name": .string(name), "id": .string(id), "endpoints": .array(endpoints)]
    }
}
