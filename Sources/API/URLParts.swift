import Foundation

/// The parts of a service URL (`postgres://user:pass@host:port/db`, `amqp://...`), percent-decoded.
public struct URLParts: Sendable, Equatable {
    public var scheme: String
    public var user: String?
    public var password: String?
    public var host: String
    public var port: Int?
    /// The path without its leading slash (database name or vhost).
    public var path: String
    public var query: [String: String]

    public init?(_ text: String) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            let host = components.host, !host.isEmpty
        else { return nil }
        self.scheme = scheme
        self.user = components.user
        self.password = components.password
        self.host = host
        self.port = components.port
        self.path = String(components.path.drop { $0 == "/" }).removingPercentEncoding ?? ""
        self.query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { _, last in last }
    }

    /// The same URL with the password replaced, safe to print or log.
    public static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }
}
