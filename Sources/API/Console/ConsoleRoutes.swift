import APICore
import Foundation
import Hummingbird

/// The web console at `/console/`: static pages (the `console/` folder) that use the public Trove API with the
/// user's own token, and the session routes that get and drop that token.
///
/// The token lives in an `HttpOnly`, `SameSite=Strict` cookie, so scripts on the page cannot read it and other
/// sites cannot send it. The API honours the cookie only on requests that carry `X-Cellar-Console: 1` (a header a
/// cross-site form cannot set), so the cookie alone authorizes nothing.
public struct WebConsole: Sendable {
    /// The cookie holding the session's token.
    public static let cookieName = "cellar_console"
    /// The header that makes the API read the cookie.
    public static let requestHeader = "X-Cellar-Console"

    let signIn: any ConsoleSignIn
    let validator: any TokenValidator
    /// The folder of the console's pages, styles and scripts.
    let assets: URL
    /// The folder of the lifecycle statecharts the console draws.
    let statecharts: URL

    public init(signIn: any ConsoleSignIn, validator: any TokenValidator, assets: URL, statecharts: URL) {
        self.signIn = signIn
        self.validator = validator
        self.assets = assets
        self.statecharts = statecharts
    }

    public func register(on base: Router<CellarRequestContext>) {
        let router = base.group().add(middleware: ControlCharacterMiddleware.trove)
        router.get("console") { _, _ in try file("index.html") }  // `/console/` too
        router.get("console/:file") { _, context in try file(try context.parameters.require("file")) }
        router.get("console/js/:file") { _, context in try file("js/" + (try context.parameters.require("file"))) }
        router.post("console/api/session") { request, context in try await createSession(request, context) }
        router.get("console/api/session") { request, _ in
            guard let token = Self.token(in: request), let caller = try await validator.validate(token: token) else {
                throw TroveError.unauthorized("Not signed in, or the session ended; sign in again.")
            }
            return try JSONResponse.make(SessionEnvelope(session: SessionView(caller, expiresAt: nil)))
        }
        router.delete("console/api/session") { request, _ in
            if let token = Self.token(in: request) { try await signIn.signOut(token: token) }
            return Response(status: .noContent, headers: [.setCookie: Self.cookie(value: "", maxAge: 0)])
        }
        router.get("console/api/statecharts/:name") { _, context in
            let name = try context.parameters.require("name")
            guard ["instance", "cluster"].contains(name) else { throw TroveError.notFound("There is no statechart named '\(name)'.") }
            let data = try Data(contentsOf: statecharts.appendingPathComponent("\(name).scxml"))
            return Response(
                status: .ok, headers: [.contentType: "application/xml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    private struct SignInRequest: Decodable {
        var user: String
        var password: String
        var project: String
    }

    private func createSession(_ request: Request, _ context: CellarRequestContext) async throws -> Response {
        let body = try await RequestBody.decode(SignInRequest.self, from: request, context: context)
        for (field, value) in [("user", body.user), ("password", body.password), ("project", body.project)] where value.isEmpty {
            throw TroveError.badRequest("'\(field)' must not be empty.")
        }
        let session: ConsoleSession
        do {
            session = try await signIn.signIn(user: body.user, password: body.password, project: body.project)
        } catch let refused as ConsoleSignInRefused {
            throw TroveError.unauthorized(refused.message)
        }
        let maxAge = session.expiresAt.map { max(Int($0.timeIntervalSinceNow), 0) }
        return try JSONResponse.make(
            SessionEnvelope(session: SessionView(session.caller, expiresAt: session.expiresAt)),
            headers: [.setCookie: Self.cookie(value: session.token, maxAge: maxAge)])
    }

    /// The session cookie's token (for the session routes themselves).
    static func token(in request: Request) -> String? {
        guard let value = request.cookies[cookieName]?.value, !value.isEmpty else { return nil }
        return value
    }

    /// The token of an API request made by the console: the cookie's, only with `X-Cellar-Console: 1`.
    public static func apiToken(in request: Request) -> String? {
        guard request.headers[.init(requestHeader)!] == "1" else { return nil }
        return token(in: request)
    }

    static func cookie(value: String, maxAge: Int?) -> String {
        var cookie = "\(cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict"
        if let maxAge { cookie += "; Max-Age=\(maxAge)" }
        return cookie
    }

    /// A file of the console folder; `..` never leaves it.
    private func file(_ path: String) throws -> Response {
        guard !path.split(separator: "/").contains(where: { $0 == ".." || $0.hasPrefix(".") }),
            let data = try? Data(contentsOf: assets.appendingPathComponent(path))
        else {
            throw TroveError.notFound("The console has no file '\(path)'.")
        }
        let types = [
            "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
            "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon", "json": "application/json",
        ]
        let type = types[(path as NSString).pathExtension] ?? "application/octet-stream"
        return Response(
            status: .ok,
            headers: [
                .contentType: type, .cacheControl: "no-cache",
                .init("Content-Security-Policy")!: "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                .init("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

struct SessionView: Encodable {
    var userID: String
    var userName: String
    var projectID: String
    var projectName: String
    var roles: [String]
    var expiresAt: String?

    enum CodingKeys: String, CodingKey {
        case roles
        case userID = "user_id"
        case userName = "user_name"
        case projectID = "project_id"
        case projectName = "project_name"
        case expiresAt = "expires_at"
    }

    init(_ caller: AuthContext, expiresAt: Date?) {
        userID = caller.userID
        userName = caller.userName
        projectID = caller.projectID
        projectName = caller.projectName
        roles = caller.roles
        self.expiresAt = expiresAt.map { $0.formatted(.iso8601) }
    }
}

struct SessionEnvelope: Encodable { var session: SessionView }
