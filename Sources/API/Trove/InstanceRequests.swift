import Foundation

/// `POST /instances` body (troveclient 8.x, Trove API reference).
struct CreateInstanceRequest: Decodable {
    struct Body: Decodable {
        struct Volume: Decodable {
            var size: Int
            var type: String?

            enum CodingKeys: String, CodingKey { case size, type }

            init(size: Int) {
                self.size = size
                type = nil
            }

            /// `size` as a number, or as the digits the openstack CLI sends (`--instance flavor=1,volume=10`).
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                type = try container.decodeIfPresent(String.self, forKey: .type)
                if let text = try? container.decode(String.self, forKey: .size) {
                    guard let number = Int(text) else {
                        throw DecodingError.typeMismatch(
                            Int.self,
                            .init(
                                codingPath: container.codingPath + [CodingKeys.size],
                                debugDescription: "expected an integer"))
                    }
                    size = number
                } else {
                    size = try container.decode(Int.self, forKey: .size)
                }
            }
        }
        struct DatastoreChoice: Decodable {
            var type: String?
            var version: String?
        }
        struct Database: Decodable {
            var name: String
            var characterSet: String?
            var collate: String?
            enum CodingKeys: String, CodingKey {
                case name
                case characterSet = "character_set"
                case collate
            }
        }
        struct DatabaseName: Decodable { var name: String }
        struct User: Decodable {
            var name: String
            var password: String
            var host: String?
            var databases: [DatabaseName]?
        }
        var name: String
        var flavorRef: StringOrInt?
        var volume: Volume?
        var datastore: DatastoreChoice?
        var databases: [Database]?
        var users: [User]?
        var nics: [[String: String]]?
        var availabilityZone: String?
        var replicaOf: String?
        var configuration: String?
        var regionName: String?
        var locality: String?
        var replicaCount: Int?
        var restorePoint: RestorePoint?

        /// `restorePoint`: the backup the new instance's data comes from.
        struct RestorePoint: Decodable {
            var backupRef: String
        }

        enum CodingKeys: String, CodingKey {
            case name, flavorRef, volume, datastore, databases, users, nics, configuration, locality, restorePoint
            case availabilityZone = "availability_zone"
            case replicaOf = "replica_of"
            case regionName = "region_name"
            case replicaCount = "replica_count"
        }
    }
    var instance: Body
}

/// `POST /instances/{id}/action` body: exactly one action.
struct InstanceActionRequest: Decodable {
    struct Resize: Decodable {
        struct Volume: Decodable { var size: Int }
        var flavorRef: StringOrInt?
        var volume: Volume?
    }
    struct Empty: Decodable {}
    var restart: Empty?
    var resize: Resize?
    var resetStatus: Empty?
    var promoteToReplicaSource: Empty?
    var ejectReplicaSource: Empty?

    enum CodingKeys: String, CodingKey {
        case restart, resize
        case resetStatus = "reset_status"
        case promoteToReplicaSource = "promote_to_replica_source"
        case ejectReplicaSource = "eject_replica_source"
    }
}
