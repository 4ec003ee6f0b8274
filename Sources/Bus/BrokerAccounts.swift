import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A broker user per guest, made through RabbitMQ's management API: a guest may declare and consume only its
/// own queue (`guest.<id>`, which the control plane bound to `cellar.rpc`), and publish only to `cellar.guest`
/// (replies, heartbeats), every message stamped with its user, which the broker validates and the receivers check
/// (`Topology.speaksFor`). It may bind nothing (no read on `cellar.rpc`): binding its queue under another guest's
/// name would hand it that guest's calls. Another guest's queue, the task manager's and the conductor's are out of
/// its reach.
public struct BrokerAccounts: Sendable {
    let base: URL
    let authorization: String
    let virtualHost: String

    /// - Parameters:
    ///   - managementURL: `http://user:password@host:port` of the management API (an administrator).
    ///   - virtualHost: the vhost guests use (that of the control plane's AMQP URL).
    public init(managementURL: String, virtualHost: String) throws {
        guard var components = URLComponents(string: managementURL), components.scheme == "http" || components.scheme == "https",
            let user = components.user?.removingPercentEncoding, let password = components.password?.removingPercentEncoding
        else {
            throw BusError(.invalidURL, "the broker's management URL must be http://user:password@host:port")
        }
        components.user = nil
        components.password = nil
        components.path = ""
        guard let base = components.url else { throw BusError(.invalidURL, "the broker's management URL has no host") }
        self.base = base
        self.authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        self.virtualHost = virtualHost
    }

    /// The broker user of a guest.
    public static func guestUser(_ instanceID: String) -> String { "guest-\(instanceID)" }

    /// `brokerURL` with the guest's own user and password instead of the control plane's.
    public static func guestURL(brokerURL: String, instanceID: String, password: String) throws -> String {
        guard var components = URLComponents(string: brokerURL) else { throw BusError(.invalidURL, "\(brokerURL) is not an AMQP URL") }
        components.user = guestUser(instanceID)
        components.password = password
        guard let url = components.string else { throw BusError(.invalidURL, "cannot build the guest's broker URL") }
        return url
    }

    /// Creates (or updates) the guest's user with `password` and its permissions. Idempotent.
    public func ensureGuest(_ instanceID: String, password: String) async throws {
        let user = Self.guestUser(instanceID)
        let queue = NSRegularExpression.escapedPattern(for: Topology.guestQueue(instanceID))
        let exchange = { (name: String) in NSRegularExpression.escapedPattern(for: name) }
        try await send("PUT", "/api/users/\(escaped(user))", ["password": password, "tags": ""])
        try await send(
            "PUT", "/api/permissions/\(escaped(virtualHost))/\(escaped(user))",
            [
                "configure": "^\(queue)$",
                "write": "^(\(queue)|\(exchange(Topology.guestExchange)))$",
                "read": "^\(queue)$",
            ])
    }

    /// Removes the guest's user (and so its permissions); a user that is gone already is fine.
    public func removeGuest(_ instanceID: String) async throws {
        try await send("DELETE", "/api/users/\(escaped(Self.guestUser(instanceID)))", nil, allowNotFound: true)
    }

    private func escaped(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? segment
    }

    private func send(_ method: String, _ path: String, _ body: [String: String]?, allowNotFound: Bool = false) async throws {
        guard let url = URL(string: base.absoluteString + path) else { throw BusError(.invalidURL, "bad management path \(path)") }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = method
        request.setValue(authorization, forHTTPHeaderField: "Authorization")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        if (200..<300).contains(status) || (allowNotFound && status == 404) { return }
        throw BusError(.refused, "broker management \(method) \(path) answered \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
    }
}
