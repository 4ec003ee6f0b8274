import Lifecycle

/// A cluster create's `extended_properties`, the route the openstack CLI has for options Trove's member dicts do
/// not carry (`--extended-properties algorithm=leastconn,synchronous=true,weights=100:50:10`).
struct ClusterProperties {
    /// The balancer's algorithm (active-passive: of the read-only endpoint).
    var algorithm: Cluster.BalancerAlgorithm?
    /// Active-passive: commits wait for a standby.
    var synchronous: Bool?
    /// Active-passive: the members' promotion weights, in the order of the instances.
    var weights: [Int]?

    init(_ properties: [String: StringOrInt], strategy: ClusterStrategy, datastore: Datastore) throws {
        let known = strategy == .activePassive ? ["algorithm", "synchronous", "weights"] : ["algorithm"]
        for (key, value) in properties {
            guard known.contains(key) else {
                throw TroveError.badRequest("Unknown extended property '\(key)'; \(datastore.type) clusters take "
                    + known.map { "'\($0)'" }.joined(separator: ", ") + ".")
            }
            switch key {
            case "algorithm":
                algorithm = try TroveAPI.algorithm(value.value)
            case "synchronous":
                switch value.value.lowercased() {
                case "true", "yes", "on", "1": synchronous = true
                case "false", "no", "off", "0": synchronous = false
                default: throw TroveError.badRequest("'extended_properties.synchronous' must be true or false, not '\(value.value)'.")
                }
            default:
                weights = try value.value.split(separator: ":", omittingEmptySubsequences: false).enumerated().map { index, text in
                    try TroveAPI.weight(String(text), field: "extended_properties.weights[\(index)]")
                }
            }
        }
    }
}
