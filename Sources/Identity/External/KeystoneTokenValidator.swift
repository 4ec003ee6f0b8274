import APICore
import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// Validates tokens against an existing Keystone (`CELLAR_KEYSTONE_URL`) instead of the built-in identity service.
///
/// Cellar logs in as a service user (a role allowed to validate others' tokens, e.g. `admin` or `service`) and
/// asks `GET /v3/auth/tokens` about each caller's token. Answers are cached for `cacheFor` (never beyond the
/// token's expiry), so a busy API does not ask Keystone on every request.
public final class KeystoneTokenValidator: TokenValidator {
    /// Where Keystone is and how Cellar logs in to it.
    public struct Configuration: Sendable {
        /// e.g. `http://keystone:5000/v3`.
        public var authURL: String
        public var serviceUser: String
        public var servicePassword: String
        public var serviceProject: String
        public var domain: String
        public var cacheFor: Duration

        public init(
            authURL: String, serviceUser: String, servicePassword: String, serviceProject: String,
            domain: String = "Default", cacheFor: Duration = .seconds(60)
        ) {
            var url = Substring(authURL)
            while url.hasSuffix("/") { url = url.dropLast() }
            self.authURL = String(url)
            self.serviceUser = serviceUser
            self.servicePassword = servicePassword
            self.serviceProject = serviceProject
            self.domain = domain
            self.cacheFor = cacheFor
        }
    }

    private struct Cached {
        var context: AuthContext?
        var until: Date
    }
    private struct State {
        var serviceToken: (token: String, until: Date)?
        var cache: [String: Cached] = [:]
    }

    let configuration: Configuration
    private let client: HTTPClient
    private let state = Mutex(State())

    public init(configuration: Configuration, client: HTTPClient = .shared) {
        self.configuration = configuration
        self.client = client
    }

    public func validate(token: String) async throws -> AuthContext? {
        let key = SecureRandom.tokenHash(token)
        let now = Date()
        if let hit = state.withLock({ $0.cache[key] }), hit.until > now { return hit.context }
        var answer = try await ask(about: token, serviceToken: try await serviceToken(renew: false))
        if case .serviceTokenRefused = answer {
            answer = try await ask(about: token, serviceToken: try await serviceToken(renew: true))
        }
        let context: AuthContext?
        let expires: Date
        switch answer {
        case .valid(let caller, let until): (context, expires) = (caller, until)
        case .invalid, .serviceTokenRefused: (context, expires) = (nil, now.addingTimeInterval(5))
        }
        let until = min(expires, now.addingTimeInterval(Double(configuration.cacheFor.components.seconds)))
        state.withLock { state in
            if state.cache.count > 10_000 { state.cache.removeAll() }
            state.cache[key] = Cached(context: context, until: until)
        }
        return context
    }

    private enum Answer {
        case valid(AuthContext, until: Date)
        case invalid
        /// Keystone refused Cellar's own (expired?) service token: renew it and ask again.
        case serviceTokenRefused
    }

    private func ask(about token: String, serviceToken: String) async throws -> Answer {
        var request = HTTPClientRequest(url: "\(configuration.authURL)/auth/tokens")
        request.method = .GET
        request.headers.add(name: "X-Auth-Token", value: serviceToken)
        request.headers.add(name: "X-Subject-Token", value: token)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await send(request)
        switch response.status.code {
        case 200:
            let (caller, until) = try Self.parse(try await body(of: response))
            return .valid(caller, until: until)
        case 401:
            return .serviceTokenRefused
        case 404:
            return .invalid
        default:
            throw unavailable("answered \(response.status.code) to a token validation")
        }
    }

    private func serviceToken(renew: Bool) async throws -> String {
        if !renew, let current = state.withLock({ $0.serviceToken }), current.until > Date() { return current.token }
        let response = try await passwordLogin(
            user: configuration.serviceUser, password: configuration.servicePassword, project: configuration.serviceProject)
        guard response.status.code == 201, let token = response.headers.first(name: "X-Subject-Token") else {
            throw unavailable("refused Cellar's service login (\(response.status.code)); check CELLAR_KEYSTONE_SERVICE_*")
        }
        let (_, expires) = try Self.parse(try await body(of: response))
        state.withLock { $0.serviceToken = (token, expires.addingTimeInterval(-60)) }
        return token
    }

    /// `POST /v3/auth/tokens` with a password, scoped to a project, all in the configured domain (as `openstack`
    /// logs in).
    func passwordLogin(user: String, password: String, project: String) async throws -> HTTPClientResponse {
        let login: [String: Any] = [
            "auth": [
                "identity": [
                    "methods": ["password"],
                    "password": ["user": ["name": user, "password": password, "domain": ["name": configuration.domain]]],
                ],
                "scope": ["project": ["name": project, "domain": ["name": configuration.domain]]],
            ]
        ]
        var request = HTTPClientRequest(url: "\(configuration.authURL)/auth/tokens")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: login)))
        return try await send(request)
    }

    func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        do {
            return try await client.execute(request, timeout: .seconds(10))
        } catch {
            throw unavailable("cannot be reached: \(error)")
        }
    }

    func body(of response: HTTPClientResponse) async throws -> Data {
        Data(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    func unavailable(_ problem: String) -> TroveError {
        TroveError(.serviceUnavailable, "serviceUnavailable", "The identity service at \(configuration.authURL) \(problem).")
    }

    /// Drops a token's cached answer (after it was revoked here).
    func forget(token: String) {
        let key = SecureRandom.tokenHash(token)
        state.withLock { _ = $0.cache.removeValue(forKey: key) }
    }

    /// The caller and expiry of a Keystone token body.
    static func parse(_ data: Data) throws -> (AuthContext, Date) {
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let token = root["token"] as? [String: Any],
            let user = token["user"] as? [String: Any], let userID = user["id"] as? String,
            let project = token["project"] as? [String: Any], let projectID = project["id"] as? String
        else {
            throw TroveError(.serviceUnavailable, "serviceUnavailable", "The identity service sent a token body without a user or project.")
        }
        let roles = (token["roles"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        let expires = (token["expires_at"] as? String).flatMap(KeystoneTime.parse) ?? Date().addingTimeInterval(60)
        return (
            AuthContext(
                userID: userID, userName: user["name"] as? String ?? userID, projectID: projectID,
                projectName: project["name"] as? String ?? projectID, roles: roles), expires
        )
    }
}
