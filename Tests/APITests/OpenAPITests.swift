import API
import APICore
import CellarTestSupport
import EventStore
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Prometheus
import ReadModels
import Secrets
import Testing

#if canImport(Identity)
import Identity
#endif

/// `openapi/openapi.json` against the routes the code really registers, and `GET /openapi.json`.
@Suite("OpenAPI document")
struct OpenAPITests {
    static let documentURL = TestServers.projectRoot.appendingPathComponent("openapi/openapi.json")
    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// A method and an OpenAPI-style path (`/v1.0/{tenant}/instances/{id}`).
    struct Route: Hashable, Comparable, CustomStringConvertible {
        var method: String
        var path: String
        var description: String { "\(method) \(path)" }
        static func < (lhs: Route, rhs: Route) -> Bool { (lhs.path, lhs.method) < (rhs.path, rhs.method) }
    }

    /// Whether the identity routes are part of the router built below (the test target must depend on `Identity`).
    static var identityCovered: Bool {
        #if canImport(Identity)
        true
        #else
        false
        #endif
    }

    /// Every route, registered exactly as `cellar api` does (`APIServer`): health, metrics, the OpenAPI document,
    /// identity and the Trove API. Registering routes does not touch the database, so the client is never run.
    static func registeredRoutes() -> [Route] {
        let logger = TestServers.logger
        let client = PostgresClient(
            configuration: .init(host: "127.0.0.1", username: "unused", password: nil, database: nil, tls: .disable),
            backgroundLogger: logger)
        let router = Router(context: CellarRequestContext.self)
        router.add(middleware: TroveErrorMiddleware())
        router.addHealthRoutes(checker: HealthChecker(postgres: client, amqpURL: "amqp://guest:guest@127.0.0.1:5672/%2f", logger: logger))
        router.addMetricsRoutes(registry: PrometheusCollectorRegistry(), validator: FixedTokens())
        router.addOpenAPIRoute(document: documentURL)
        #if canImport(Identity)
        let identity = IdentityStore(client: client, logger: logger)
        router.addIdentityRoutes(store: identity, catalog: ServiceCatalog(publicURL: nil))
        WebConsole(
            signIn: identity, validator: identity, assets: TestServers.projectRoot.appendingPathComponent("console"),
            statecharts: TestServers.projectRoot.appendingPathComponent("statecharts")
        ).register(on: router)
        #endif
        TroveAPI(
            client: client, store: PostgresEventStore(client: client, logger: logger), charts: TroveAPIFixture.charts,
            validator: FixedTokens(), secrets: try! SecretBox(base64Key: TroveAPIFixture.secretKey), changes: ReadModelChanges(), logger: logger
        ).register(on: router)
        // `RouterPath.description` already writes captures as `{name}`.
        return router.routes.map { Route(method: $0.method.rawValue.lowercased(), path: $0.path.description) }
    }

    static func document() throws -> [String: Any] {
        let data = try Data(contentsOf: documentURL)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "openapi.json is not a JSON object")
    }

    /// Every operation of the document with its object.
    static func operations(_ document: [String: Any]) throws -> [Route: [String: Any]] {
        let paths = try #require(document["paths"] as? [String: Any], "openapi.json has no paths")
        var found: [Route: [String: Any]] = [:]
        for (path, item) in paths {
            let item = try #require(item as? [String: Any], "path item \(path) is not an object")
            for method in methods {
                if let operation = item[method] {
                    found[Route(method: method, path: path)] = try #require(operation as? [String: Any], "\(method) \(path) is not an object")
                }
            }
        }
        return found
    }

    /// Follows a local `$ref` (`#/components/parameters/tenant`), or returns the object itself.
    static func resolve(_ value: Any, in document: [String: Any]) -> [String: Any]? {
        guard let object = value as? [String: Any] else { return nil }
        guard let reference = object["$ref"] as? String else { return object }
        guard reference.hasPrefix("#/") else { return nil }
        var current: Any = document
        for key in reference.dropFirst(2).split(separator: "/") {
            guard let next = (current as? [String: Any])?[String(key)] else { return nil }
            current = next
        }
        return resolve(current, in: document)
    }

    @Test("the router registers routes at all (sanity check of the route list)")
    func routerListsRoutes() {
        let routes = Set(Self.registeredRoutes())
        #expect(routes.contains(Route(method: "get", path: "/v1.0/{tenant}/instances/{id}")))
        #expect(routes.contains(Route(method: "post", path: "/v1.0/{tenant}/instances/{id}/action")))
        #expect(routes.contains(Route(method: "get", path: "/healthz")))
        #expect(routes.contains(Route(method: "get", path: "/openapi.json")))
        if Self.identityCovered { #expect(routes.contains(Route(method: "post", path: "/v3/auth/tokens"))) }
        #expect(routes.count > 60, "only \(routes.count) routes registered")
    }

    @Test("every route the code registers is documented")
    func everyRouteDocumented() throws {
        let documented = Set(try Self.operations(try Self.document()).keys)
        let undocumented = Set(Self.registeredRoutes()).subtracting(documented).sorted()
        for route in undocumented {
            Issue.record("undocumented route: \(route) (add it to openapi/openapi.json)")
        }
        #expect(undocumented.isEmpty)
    }

    @Test("every documented operation is a route the code registers")
    func noStaleOperations() throws {
        let registered = Set(Self.registeredRoutes())
        var stale = Set(try Self.operations(try Self.document()).keys).subtracting(registered)
        if !Self.identityCovered {
            // Without the Identity module in this test target its routes cannot be listed; leave them out.
            stale = stale.filter { !$0.path.hasPrefix("/v3") && !$0.path.hasPrefix("/identity") }
        }
        for route in stale.sorted() {
            Issue.record("documented but not registered: \(route)")
        }
        #expect(stale.isEmpty)
    }

    @Test("the document is OpenAPI 3.0 and every operation has an id, responses and its path parameters")
    func operationsAreComplete() throws {
        let document = try Self.document()
        #expect(document["openapi"] as? String == "3.0.3")
        var operationIDs: Set<String> = []
        for (route, operation) in try Self.operations(document).sorted(by: { $0.key < $1.key }) {
            let responses = operation["responses"] as? [String: Any] ?? [:]
            #expect(!responses.isEmpty, "\(route) documents no response")
            for (status, response) in responses {
                #expect(Self.resolve(response, in: document)?["description"] is String, "\(route) response \(status) does not resolve")
            }
            if let id = operation["operationId"] as? String {
                #expect(operationIDs.insert(id).inserted, "operationId \(id) is used twice")
            } else {
                Issue.record("\(route) has no operationId")
            }
            let parameters = (operation["parameters"] as? [Any] ?? []).compactMap { Self.resolve($0, in: document) }
            #expect(parameters.count == (operation["parameters"] as? [Any] ?? []).count, "\(route) has a parameter that does not resolve")
            let declared = Set(parameters.filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String })
            let inPath = Set(route.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
            #expect(declared == inPath, "\(route): path parameters \(inPath.sorted()) but declared \(declared.sorted())")
            if operation["requestBody"] != nil {
                #expect(Self.resolve(operation["requestBody"]!, in: document)?["content"] != nil, "\(route) request body has no content")
            }
        }
    }

    @Test("Trove routes need X-Auth-Token and document Trove's error body")
    func troveRoutesAreAuthenticated() throws {
        let document = try Self.document()
        let schemes = (document["components"] as? [String: Any])?["securitySchemes"] as? [String: Any]
        let scheme = schemes?["AuthToken"] as? [String: Any]
        #expect(scheme?["type"] as? String == "apiKey" && scheme?["in"] as? String == "header" && scheme?["name"] as? String == "X-Auth-Token")
        let faults = [
            "400": "badRequest", "401": "unauthorized", "403": "forbidden", "404": "itemNotFound", "409": "conflictingRequest",
            "413": "overLimit", "415": "badMediaType", "422": "unprocessableEntity", "500": "instanceFault", "501": "notImplemented",
        ]
        for (route, operation) in try Self.operations(document) where route.path.hasPrefix("/v1.0/{tenant}") {
            let security = operation["security"] as? [[String: Any]] ?? []
            #expect(security.contains { $0["AuthToken"] != nil }, "\(route) does not require X-Auth-Token")
            let responses = operation["responses"] as? [String: Any] ?? [:]
            #expect(responses["401"] != nil && responses["403"] != nil, "\(route) does not document 401 and 403")
            for (status, fault) in faults {
                guard let response = responses[status].flatMap({ Self.resolve($0, in: document) }) else { continue }
                let media = (response["content"] as? [String: Any])?["application/json"] as? [String: Any]
                let schema = media?["schema"].flatMap { Self.resolve($0, in: document) }
                let properties = schema?["properties"] as? [String: Any]
                #expect(properties?.keys.sorted() == [fault], "\(route) \(status) is not a {\"\(fault)\": {...}} body")
            }
        }
    }

    @Test("every operation documents the 400 of the control-character gate, in its family's error shape")
    func badRequestEverywhere() throws {
        let document = try Self.document()
        for (route, operation) in try Self.operations(document).sorted(by: { $0.key < $1.key }) {
            let responses = operation["responses"] as? [String: Any] ?? [:]
            guard let response = responses["400"] else {
                Issue.record("\(route) does not document 400 (every string of a request passes the control-character gate)")
                continue
            }
            let keystone = route.path.hasPrefix("/v3") || route.path.hasPrefix("/identity")
            let expected = keystone ? "#/components/responses/KeystoneBadRequest" : "#/components/responses/BadRequest"
            #expect((response as? [String: Any])?["$ref"] as? String == expected, "\(route) 400 is not \(expected)")
        }
    }

    @Test("Trove routes document the rate limit's 413, and those with a body 413 and 415 for the body")
    func troveLimitsAndBodies() throws {
        let document = try Self.document()
        for (route, operation) in try Self.operations(document) where route.path.hasPrefix("/v1.0/{tenant}") {
            let responses = operation["responses"] as? [String: Any] ?? [:]
            #expect(responses["413"] != nil, "\(route) does not document 413 (rate limits apply to every route)")
            if operation["requestBody"] != nil {
                #expect(responses["415"] != nil, "\(route) takes a body but does not document 415")
            }
        }
    }

    @Test("GET instance documents ETag, If-None-Match, ?wait and 304")
    func conditionalInstanceRead() throws {
        let document = try Self.document()
        let operation = try #require(try Self.operations(document)[Route(method: "get", path: "/v1.0/{tenant}/instances/{id}")])
        let parameters = (operation["parameters"] as? [Any] ?? []).compactMap { Self.resolve($0, in: document) }
        #expect(parameters.contains { $0["name"] as? String == "If-None-Match" && $0["in"] as? String == "header" })
        #expect(parameters.contains { $0["name"] as? String == "wait" && $0["in"] as? String == "query" })
        let responses = operation["responses"] as? [String: Any] ?? [:]
        #expect(responses["304"] != nil)
        let headers = (responses["200"] as? [String: Any])?["headers"] as? [String: Any]
        #expect(headers?["ETag"] != nil)
    }

    @Test("GET /openapi.json serves the document as application/json")
    func servesDocument() async throws {
        let expected = try Data(contentsOf: Self.documentURL)
        let router = Router(context: CellarRequestContext.self)
        router.addOpenAPIRoute(document: Self.documentURL)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(Data(response.body.readableBytesView) == expected)
            }
        }
    }

    @Test("a missing document is a 503 with a JSON message, not a crash")
    func missingDocument() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("cellar-\(UUID().uuidString)/openapi.json")
        let router = Router(context: CellarRequestContext.self)
        router.addOpenAPIRoute(document: missing)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/json")
                let body = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                let fault = body?["serviceUnavailable"] as? [String: Any]
                #expect(fault?["code"] as? Int == 503)
                #expect((fault?["message"] as? String)?.contains("not available") == true)
            }
        }
    }
}
