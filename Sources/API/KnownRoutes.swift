import Hummingbird
import Synchronization

/// The routes the server has, by path template and method: a request whose path is known but whose method is not
/// gets 405 with the methods it may use (`Allow`), not 404. Filled once every route is registered.
public final class KnownRoutes: Sendable {
    private let routes = Mutex<[(method: String, segments: [Substring])]>([])

    public init() {}

    /// Takes the router's routes (`router.routes`: method and path template, captures as `{name}`).
    public func load(_ table: [(method: String, path: String)]) {
        let parsed = table.map { (method: $0.method.uppercased(), segments: $0.path.split(separator: "/")) }
        routes.withLock { $0 = parsed }
    }

    /// The methods known for `path`, sorted (empty: no route has this path). Where templates overlap, the most
    /// literal ones win, as in the router (`/instances/detail` is not `/instances/{id}`).
    public func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/")
        let matching = routes.withLock { table in table.filter { route in Self.matches(route.segments, segments) } }
        let literals = { (route: (method: String, segments: [Substring])) in route.segments.filter { !Self.isCapture($0) }.count }
        guard let most = matching.map(literals).max() else { return [] }
        return Array(Set(matching.filter { literals($0) == most }.map(\.method))).sorted()
    }

    private static func isCapture(_ segment: Substring) -> Bool {
        segment == "*" || segment == "**" || segment.hasPrefix(":") || (segment.hasPrefix("{") && segment.hasSuffix("}"))
    }

    private static func matches(_ template: [Substring], _ path: [Substring]) -> Bool {
        if template.last == "**" { return path.count >= template.count - 1 && zip(template.dropLast(), path).allSatisfy(segmentMatches) }
        return template.count == path.count && zip(template, path).allSatisfy(segmentMatches)
    }

    private static func segmentMatches(_ pair: (Substring, Substring)) -> Bool {
        let (template, segment) = pair
        return isCapture(template) || template == segment
    }
}
