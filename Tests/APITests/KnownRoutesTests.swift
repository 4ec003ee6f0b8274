import API
import Testing

@Suite("Known routes (405 for a known path asked with another method)")
struct KnownRoutesTests {
    static let routes = KnownRoutes()
    static let table: [(method: String, path: String)] = [
        ("GET", "/v1.0/{tenant}/instances/detail"), ("GET", "/v1.0/{tenant}/instances/{id}"),
        ("PUT", "/v1.0/{tenant}/instances/{id}"), ("DELETE", "/v1.0/{tenant}/instances/{id}"), ("GET", "/"),
        ("GET", "/console/**"),
    ]

    @Test("the methods of the most literal matching templates; none for an unknown path")
    func methods() {
        Self.routes.load(Self.table)
        #expect(Self.routes.methods(for: "/v1.0/p/instances/detail") == ["GET"])
        #expect(Self.routes.methods(for: "/v1.0/p/instances/abc") == ["DELETE", "GET", "PUT"])
        #expect(Self.routes.methods(for: "/") == ["GET"])
        #expect(Self.routes.methods(for: "/console/js/app.js") == ["GET"])
        #expect(Self.routes.methods(for: "/v1.0/p/nothing-here").isEmpty)
        #expect(Self.routes.methods(for: "/v1.0/p/instances/abc/extra").isEmpty)
    }
}
