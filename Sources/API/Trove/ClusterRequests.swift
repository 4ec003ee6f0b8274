import Foundation

/// `POST /clusters` body, as python-troveclient's `clusters.create` and `openstack database cluster create` send it.
struct CreateClusterRequest: Decodable {
    struct Body: Decodable {
        var name: String
        var datastore: CreateInstanceRequest.Body.DatastoreChoice?
        var instances: [MemberRequest]?
        var locality: String?
        var extendedProperties: [String: PropertyValue]?
        var configuration: String?

        enum CodingKeys: String, CodingKey {
            case name, datastore, instances, locality, configuration
            case extendedProperties = "extended_properties"
        }
    }
    var cluster: Body
}

/// One member dict of a create or grow: `flavorRef`, `volume`, and options that mean nothing on one host but
/// are taken as Trove takes them (`nics`, `availability_zone`, `modules`, `region`).
struct MemberRequest: Decodable {
    var flavorRef: StringOrInt?
    var volume: CreateInstanceRequest.Body.Volume?
    var name: String?
    var type: MemberType?
    var nics: [[String: String]]?
    var availabilityZone: String?
    var region: String?
    var relatedTo: String?
    /// Active-passive: the promotion weight (0 to 1000; 0: never promoted; default 1).
    var weight: StringOrInt?

    enum CodingKeys: String, CodingKey {
        case flavorRef, volume, name, type, nics, region, weight
        case availabilityZone = "availability_zone"
        case relatedTo = "related_to"
    }

    /// `"member"` or, from the CLI's repeated `type=` option, `["member"]`.
    struct MemberType: Decodable {
        var names: [String]
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) { names = [one] } else { names = try container.decode([String].self) }
        }
    }
}

/// `POST /clusters/{id}`: exactly one action.
struct ClusterActionRequest: Decodable {
    struct Empty: Decodable {}
    struct Leaving: Decodable { var id: String }
    struct Balancer: Decodable { var algorithm: String }
    var grow: [MemberRequest]?
    var shrink: [Leaving]?
    var restart: Empty?
    var resetStatus: Empty?
    var balancer: Balancer?
    var upgrade: Empty?
    var configurationAttach: Empty?
    var configurationDetach: Empty?
    var addShard: Empty?
    /// Active-passive: new promotion weights, by member id or name.
    var weights: [String: StringOrInt]?

    enum CodingKeys: String, CodingKey {
        case grow, shrink, restart, balancer, upgrade, weights
        case resetStatus = "reset-status"
        case configurationAttach = "configuration_attach"
        case configurationDetach = "configuration_detach"
        case addShard = "add_shard"
    }
}
