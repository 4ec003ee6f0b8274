import API
import APICore
import CellarTestSupport
import EventStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Lifecycle
import NIOCore
import ReadModels
import Secrets

/// Test double for token validation: fixed tokens for a member, a reader and an admin of project `alpha`, and a
/// member of project `beta`. (Real tokens are covered by IdentityTests and the troveclient end-to-end test.)
struct FixedTokens: TokenValidator {
    static let member = AuthContext(userID: "u-alice", userName: "alice", projectID: "alpha", projectName: "alpha", roles: ["member"])
    static let reader = AuthContext(userID: "u-rita", userName: "rita", projectID: "alpha", projectName: "alpha", roles: ["reader"])
    static let admin = AuthContext(userID: "u-root", userName: "root", projectID: "ops", projectName: "ops", roles: ["admin"])
    static let other = AuthContext(userID: "u-bob", userName: "bob", projectID: "beta", projectName: "beta", roles: ["member"])

    func validate(token: String) async throws -> AuthContext? {
        ["member": Self.member, "reader": Self.reader, "admin": Self.admin, "other": Self.other][token]
    }
}

/// A Trove API router over a fresh database with the catalog seeded.
enum TroveAPIFixture {
    static let charts = try! StatechartLibrary.load(directory: TestServers.projectRoot.appendingPathComponent("statecharts"))
    static let secretKey = SecretBox.generateKey()

    /// `caches`: the API keeps rows in memory between notifications, as `cellar up` does (the listener runs).
    static func with(
        rateLimits: [RateLimit] = RateLimit.troveDefaults, caches: CacheInvalidation? = nil,
        _ body: @Sendable @escaping (any TestClientProtocol, TestDatabase) async throws -> Void
    ) async throws {
        try await TestDatabase.with { database in
            try await OperatorCatalog(client: database.client, logger: TestServers.logger).seedDefaults()
            let listener = Task { await caches?.run(client: database.client, logger: TestServers.logger) }
            defer { listener.cancel() }
            let router = Router(context: CellarRequestContext.self)
            router.add(middleware: TroveErrorMiddleware())
            TroveAPI(
                client: database.client, store: database.eventStore(), charts: charts, validator: FixedTokens(),
                secrets: try SecretBox(base64Key: secretKey), changes: ReadModelChanges(),
                rateLimiter: RateLimiter(limits: rateLimits), caches: caches, logger: TestServers.logger
            )
            .register(on: router)
            try await Application(router: router).test(.router) { client in try await body(client, database) }
        }
    }
}

/// A decoded JSON response.
struct JSONReply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: [String: any Sendable]

    init(_ response: TestResponse) {
        status = response.status
        headers = response.headers
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
        body = object.mapValues { Self.sendable($0) }
    }

    /// The Trove fault name and message of an error body (`{"badRequest": {"code": 400, "message": ...}}`).
    var fault: (name: String, code: Int, message: String)? {
        guard body.count == 1, let (name, value) = body.first, let inner = value as? [String: any Sendable],
            let code = inner["code"] as? Int, let message = inner["message"] as? String
        else { return nil }
        return (name, code, message)
    }

    subscript(key: String) -> [String: any Sendable]? { body[key] as? [String: any Sendable] }

    private static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let object as [String: Any]: object.mapValues { sendable($0) }
        case let array as [Any]: array.map { sendable($0) }
        case let number as NSNumber: (number.stringValue.contains(".") ? number.doubleValue as any Sendable : number.intValue as any Sendable)
        case let string as String: string
        default: "\(value)"
        }
    }
}

extension TestClientProtocol {
    /// Sends a request as `token` to `/v1.0/<project>/<path>`.
    func call(
        _ method: HTTPRequest.Method, _ path: String, as token: String? = "member", project: String = "alpha",
        body: String? = nil, headers: HTTPFields = [:]
    ) async throws -> JSONReply {
        try await call(method, path, as: token, project: project, bytes: body.map { Array($0.utf8) }, headers: headers)
    }

    /// The same with a body of raw bytes (which need not be UTF-8).
    func call(
        _ method: HTTPRequest.Method, _ path: String, as token: String? = "member", project: String = "alpha",
        bytes: [UInt8]?, headers: HTTPFields = [:]
    ) async throws -> JSONReply {
        var fields = headers
        if let token { fields[.init("X-Auth-Token")!] = token }
        if bytes != nil { fields[.contentType] = "application/json" }
        return try await execute(
            uri: "/v1.0/\(project)/\(path)", method: method, headers: fields,
            body: bytes.map { ByteBuffer(bytes: $0) }
        ) { JSONReply($0) }
    }
}

/// A create body with the given `instance` fields merged into a valid default.
func createBody(_ overrides: String = "") -> String {
    """
    {"instance": {"name": "orders", "flavorRef": "1", "volume": {"size": 1},
      "datastore": {"type": "postgresql", "version": "15"},
      "databases": [{"name": "orders"}, {"name": "billing", "character_set": "UTF8"}],
      "users": [{"name": "app", "password": "correct-horse", "databases": [{"name": "orders"}]}]\(overrides)}}
    """
}
