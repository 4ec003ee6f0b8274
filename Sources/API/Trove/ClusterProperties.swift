import APICore
import Lifecycle

/// A cluster create's `extended_properties`, the route the openstack CLI has for options Trove's member dicts do
/// not carry (`--extended-properties algorithm=leastconn,synchronous=true,weights=100:50:10`). The CLI sends
/// strings; python code sends JSON values (`{"synchronous": True, "weights": [100, 50, 10]}`): both are taken.
struct ClusterProperties {
    /// The balancer's algorithm (active-passive: of the read-only endpoint).
    var algorithm: Cluster.BalancerAlgorithm?
    /// Active-passive: commits wait for a standby.
    var synchronous: Bool?
    /// Active-passive: the members' promotion weights, in the order of the instances.
    var weights: [Int]?

    init(_ properties: [String: PropertyValue], strategy: ClusterStrategy, datastore: Datastore) throws {
        let known = strategy == .activePassive ? ["algorithm", "synchronous", "weights"] : ["algorithm"]
        for (key, value) in properties {
            guard known.contains(key) else {
                throw TroveError.badRequest(
                    "Unknown extended property '\(key)'; \(datastore.type) clusters take "
                        + known.map { "'\($0)'" }.joined(separator: ", ") + ".")
            }
            let field = "extended_properties.\(key)"
            switch (key, value) {
            case ("algorithm", .string(let text)):
                algorithm = try TroveAPI.algorithm(text)
            case ("synchronous", .boolean(let flag)):
                synchronous = flag
            case ("synchronous", .string(let text)):
                switch text.lowercased() {
                case "true", "yes", "on", "1": synchronous = true
                case "false", "no", "off", "0": synchronous = false
                default: throw TroveError.badRequest("'\(field)' must be true or false, not '\(text)'.")
                }
            case ("weights", .string(let text)):
                weights = try text.split(separator: ":", omittingEmptySubsequences: false).enumerated().map { index, text in
                    try TroveAPI.weight(String(text), field: "\(field)[\(index)]")
                }
            case ("weights", .integers(let numbers)):
                weights = try numbers.enumerated().map { index, number in try TroveAPI.weight(String(number), field: "\(field)[\(index)]") }
            case ("weights", .integer(let number)):
                weights = [try TroveAPI.weight(String(number), field: "\(field)[0]")]
            default:
                throw TroveError.badRequest("'\(field)' must be \(Self.expected[key] ?? "a string"), not \(value.kind).")
            }
        }
    }

    private static let expected = [
        "algorithm": "a string (roundrobin or leastconn)",
        "synchronous": "true or false (a JSON boolean or a string)",
        "weights": "a list of integers, or a string such as \"100:50:10\"",
    ]
}

/// One `extended_properties` value: a string, or a JSON boolean, integer or list of integers.
enum PropertyValue: Decodable, Sendable {
    case string(String)
    case boolean(Bool)
    case integer(Int)
    case integers([Int])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let flag = try? container.decode(Bool.self) {
            self = .boolean(flag)
        } else if let number = try? container.decode(Int.self) {
            self = .integer(number)
        } else if let numbers = try? container.decode([Int].self) {
            self = .integers(numbers)
        } else {
            throw DecodingError.typeMismatch(
                String.self,
                .init(
                    codingPath: decoder.codingPath, debugDescription: "expected a string, a boolean, an integer or a list of integers"))
        }
    }

    /// For messages: what was sent.
    var kind: String {
        switch self {
        case .string(let text): "'\(text)'"
        case .boolean(let flag): "\(flag)"
        case .integer(let number): "\(number)"
        case .integers(let numbers): "\(numbers)"
        }
    }
}
