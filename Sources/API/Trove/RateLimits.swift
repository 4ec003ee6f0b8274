import APICore
import Foundation
import Hummingbird
import Synchronization

/// One of Trove's rate limits: at most `value` requests with `verb` to URIs matching `regex`, per minute.
public struct RateLimit: Sendable, Equatable {
    public var verb: String
    /// As Trove shows it: `*` or `*/mgmt`.
    public var uri: String
    public var regex: String
    public var value: Int

    public init(verb: String, uri: String = "*", regex: String = ".*", value: Int) {
        self.verb = verb
        self.uri = uri
        self.regex = regex
        self.value = value
    }

    /// Trove's defaults (`http_{get,post,put,delete}_rate`, `http_mgmt_post_rate`): 200 a minute each.
    public static let troveDefaults = limits(get: 200, post: 200, put: 200, delete: 200, mgmtPost: 200)

    public static func limits(get: Int, post: Int, put: Int, delete: Int, mgmtPost: Int) -> [RateLimit] {
        [
            RateLimit(verb: "POST", value: post), RateLimit(verb: "PUT", value: put), RateLimit(verb: "DELETE", value: delete),
            RateLimit(verb: "GET", value: get), RateLimit(verb: "POST", uri: "*/mgmt", regex: "^/mgmt", value: mgmtPost),
        ]
    }

    /// `GET=200,POST=100,PUT=200,DELETE=200,MGMT=50` (`CELLAR_RATE_LIMITS`); missing verbs keep Trove's default.
    public static func parse(_ text: String) throws -> [RateLimit] {
        var values = ["GET": 200, "POST": 200, "PUT": 200, "DELETE": 200, "MGMT": 200]
        for pair in text.split(separator: ",") where !pair.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = pair.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
            guard parts.count == 2, values[parts[0]] != nil, let value = Int(parts[1]), value > 0 else {
                throw RateLimitSyntaxError(text: String(pair))
            }
            values[parts[0]] = value
        }
        return limits(get: values["GET"]!, post: values["POST"]!, put: values["PUT"]!, delete: values["DELETE"]!, mgmtPost: values["MGMT"]!)
    }

    func applies(verb: String, path: String) -> Bool {
        guard verb == self.verb else { return false }
        return uri == "*/mgmt" ? path.hasPrefix("/mgmt") : true
    }
}

struct RateLimitSyntaxError: Error, CustomStringConvertible {
    var text: String
    var description: String { "CELLAR_RATE_LIMITS: \"\(text)\" is not VERB=<requests per minute> (verbs GET, POST, PUT, DELETE, MGMT)" }
}

/// Counts each user's requests per limit in one-minute windows (in this API process).
public final class RateLimiter: Sendable {
    public let limits: [RateLimit]
    private let windows = Mutex<[String: (start: Date, count: Int)]>([:])
    private let now: @Sendable () -> Date

    public init(limits: [RateLimit] = RateLimit.troveDefaults, now: @escaping @Sendable () -> Date = { Date() }) {
        self.limits = limits
        self.now = now
    }

    /// Counts the request; nil when admitted, else the limit it exceeds and the seconds until it admits again.
    func admit(user: String, verb: String, path: String) -> (limit: RateLimit, retryAfter: Int)? {
        let moment = now()
        return windows.withLock { windows in
            for (index, limit) in limits.enumerated() where limit.applies(verb: verb, path: path) {
                let key = "\(user)|\(index)"
                var window = windows[key] ?? (moment, 0)
                if moment.timeIntervalSince(window.start) >= 60 { window = (moment, 0) }
                guard window.count < limit.value else {
                    return (limit, max(1, Int((60 - moment.timeIntervalSince(window.start)).rounded(.up))))
                }
                window.count += 1
                windows[key] = window
            }
            return nil
        }
    }

    /// Each limit with what `user` has left of it and when the next request is admitted.
    func status(user: String) -> [(limit: RateLimit, remaining: Int, nextAvailable: Date)] {
        let moment = now()
        return windows.withLock { windows in
            limits.enumerated().map { index, limit in
                guard let window = windows["\(user)|\(index)"], moment.timeIntervalSince(window.start) < 60 else {
                    return (limit, limit.value, moment)
                }
                let remaining = max(0, limit.value - window.count)
                return (limit, remaining, remaining > 0 ? moment : window.start.addingTimeInterval(60))
            }
        }
    }
}

/// Answers 413 `overLimit` with `retryAfter` (and a Retry-After header) once a user exceeds a rate limit.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = CellarRequestContext
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let caller = context.auth else { return try await next(request, context) }
        let tenant = context.parameters.get("tenant") ?? ""
        let path = request.uri.path.components(separatedBy: "/v1.0/\(tenant)").last ?? request.uri.path
        if let (limit, retryAfter) = limiter.admit(user: caller.userID, verb: request.method.rawValue, path: path) {
            var error = TroveError.overLimit(
                "This request was rate-limited: only \(limit.value) \(limit.verb) request(s) "
                    + "can be made to \(limit.uri) every minute. Retry after \(retryAfter) s.")
            error.retryAfter = retryAfter
            throw error
        }
        return try await next(request, context)
    }
}

/// A rate limit as `GET /limits` lists it.
struct RateLimitView: Encodable {
    var verb: String
    var uri: String
    var regex: String
    var value: Int
    var unit = "MINUTE"
    var remaining: Int
    var nextAvailable: String
}
