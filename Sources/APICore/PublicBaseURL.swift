import Hummingbird
import Synchronization

/// The base of every URL Cellar writes into an answer (links, the service catalog, next pages): the operator's
/// `CELLAR_PUBLIC_URL`, else the address the API listens on. Never a request's `Host` header, which a client
/// chooses: a link built from it would send the next client, token and all, wherever that header says.
public enum PublicBaseURL {
    private static let configured = Mutex<String?>(nil)

    /// Sets the base (a trailing `/` is dropped); `cellar api` and `cellar up` call it once at start.
    public static func configure(_ url: String) {
        var trimmed = Substring(url)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        configured.withLock { $0 = String(trimmed) }
    }

    /// The configured base; unconfigured (a router in a unit test), the request's own scheme and host.
    public static func base(for request: Request) -> String {
        if let base = configured.withLock({ $0 }) { return base }
        return "\(request.head.scheme ?? "http")://\(request.head.authority ?? "localhost")"
    }
}
