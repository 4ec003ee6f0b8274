import Foundation

/// Where the broker is and how to log in, from `amqp://user:password@host:port/vhost`.
public struct AMQPEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String

    public init(url: String) throws {
        guard let components = URLComponents(string: url), components.scheme == "amqp",
            let host = components.host, !host.isEmpty
        else {
            throw BusError(.invalidURL, "\(url) is not amqp://user:password@host:port/vhost")
        }
        self.host = host
        self.port = components.port ?? 5672
        self.user = components.user?.removingPercentEncoding ?? "guest"
        self.password = components.password?.removingPercentEncoding ?? "guest"
        let path = String(components.percentEncodedPath.drop { $0 == "/" })
        self.virtualHost = path.isEmpty ? "/" : (path.removingPercentEncoding ?? path)
    }
}
