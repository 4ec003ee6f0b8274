import Foundation
import Hummingbird
import ReadModels

/// The JSON of an instance, as Trove's `InstanceView` / `InstanceDetailView` write it.
struct InstanceView: Encodable {
    struct FlavorRef: Encodable {
        var id: String
        var links: [Link]
    }
    struct DatastoreRef: Encodable {
        var type: String
        var version: String
    }
    struct Volume: Encodable { var size: Int }
    struct Access: Encodable {
        var isPublic: Bool
        var allowedCidrs: [String]?
        enum CodingKeys: String, CodingKey {
            case isPublic = "is_public"
            case allowedCidrs = "allowed_cidrs"
        }
    }
    struct ConfigurationRef: Encodable {
        var id: String
        var name: String?
        var links: [Link]
    }
    struct Address: Encodable {
        var address: String
        var type: String
    }
    struct Fault: Encodable {
        var message: String
        var created: String
        var details: String
    }

    var id: String
    var name: String
    var status: String
    var operatingStatus: String
    var links: [Link]
    var flavor: FlavorRef
    var datastore: DatastoreRef
    var region = "RegionOne"
    var access = Access(isPublic: false)
    var volume: Volume
    var ip: [String]?
    var addresses: [Address]?
    var created: String?
    var updated: String?
    var serviceStatusUpdated: String?
    var fault: Fault?
    var configuration: ConfigurationRef?
    var tenantID: String?
    var clusterID: String?
    /// Trove replication: the source of a replica, and a source's replicas (in detail).
    var replicaOf: ResourceRef?
    var replicas: [ResourceRef]?
    /// Cellar: the lifecycle statechart's current leaf state (detail only).
    var lifecycleState: String?

    struct ResourceRef: Encodable {
        var id: String
        var links: [Link]
    }

    enum CodingKeys: String, CodingKey {
        case id, name, status, links, flavor, datastore, region, access, volume, ip, addresses, created, updated, fault, configuration
        case operatingStatus = "operating_status"
        case serviceStatusUpdated = "service_status_updated"
        case tenantID = "tenant_id"
        case clusterID = "cluster_id"
        case replicaOf = "replica_of"
        case replicas
        case lifecycleState = "lifecycle_state"
    }

    /// `replicaIDs`: a source's replicas, shown in detail.
    init(_ record: InstanceRecord, request: Request, project: String, detailed: Bool, admin: Bool, replicaIDs: [String] = []) {
        id = record.id
        name = record.name
        status = record.status
        operatingStatus = record.operatingStatus
        links = Link.resource(request, project: project, collection: "instances", id: record.id)
        flavor = FlavorRef(id: record.flavorID, links: Link.resource(request, project: project, collection: "flavors", id: record.flavorID))
        datastore = DatastoreRef(type: record.datastoreType, version: record.datastoreVersion)
        volume = Volume(size: record.volumeSize)
        if let address = record.address {
            ip = [address]
            addresses = [Address(address: address, type: "private")]
        }
        if admin { tenantID = record.projectID }
        clusterID = record.clusterID
        replicaOf = record.replicaOf.map { ResourceRef(id: $0, links: Link.resource(request, project: project, collection: "instances", id: $0)) }
        if let access = record.access { self.access = Access(isPublic: access.isPublic, allowedCidrs: access.allowedCidrs) }
        guard detailed else { return }
        lifecycleState = record.lifecycleState
        if !replicaIDs.isEmpty {
            replicas = replicaIDs.map { ResourceRef(id: $0, links: Link.resource(request, project: project, collection: "instances", id: $0)) }
        }
        if let configurationID = record.configurationID {
            configuration = ConfigurationRef(
                id: configurationID, name: record.configurationName,
                links: Link.resource(request, project: project, collection: "configurations", id: configurationID))
        }
        created = JSONResponse.timestamp(record.created)
        updated = JSONResponse.timestamp(record.updated)
        serviceStatusUpdated = JSONResponse.timestamp(record.updated)
        if let message = record.faultMessage {
            fault = Fault(message: message, created: JSONResponse.timestamp(record.faultAt ?? record.updated), details: message)
        }
    }
}

struct InstanceEnvelope: Encodable { var instance: InstanceView }

struct InstanceList: Encodable {
    var instances: [InstanceView]
    var links: [Link]?
}
