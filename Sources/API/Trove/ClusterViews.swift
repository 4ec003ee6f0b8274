import Foundation
import Hummingbird
import Lifecycle
import ReadModels

/// Trove's cluster JSON (`trove/cluster/views.py`, the Galera view): members with their status, flavor, volume
/// and addresses when shown in detail; the cluster's `ip` is its load balancer's address.
struct ClusterView: Encodable {
    struct TaskView: Encodable {
        var id: Int
        var name: String
        var description: String
    }
    struct Member: Encodable {
        var id: String
        var name: String
        var type: String
        var links: [Link]
        var status: String?
        var operatingStatus: String?
        var flavor: InstanceView.FlavorRef?
        var volume: InstanceView.Volume?
        var ip: [InstanceView.Address]?
        /// Active-passive: `primary`, `replica` or `fenced`; the promotion weight; how far behind the primary.
        var role: String?
        var weight: Int?
        var replicationLagBytes: Int64?

        enum CodingKeys: String, CodingKey {
            case id, name, type, links, status, flavor, volume, ip, role, weight
            case operatingStatus = "operating_status"
            case replicationLagBytes = "replication_lag_bytes"
        }
    }
    /// Active-passive: where writes go (the primary) and where reads are spread (the replicas).
    struct Endpoints: Encodable {
        var readWrite: String
        var readOnly: String
        enum CodingKeys: String, CodingKey {
            case readWrite = "read_write"
            case readOnly = "read_only"
        }
    }
    struct DatastoreRef: Encodable {
        var type: String
        var version: String
    }
    struct Balancer: Encodable {
        var address: String?
        var port: Int?
        var algorithm: String
        enum CodingKeys: String, CodingKey { case address, port, algorithm }
    }
    var id: String
    var name: String
    var task: TaskView
    var created: String?
    var updated: String?
    var links: [Link]
    var datastore: DatastoreRef?
    var instances: [Member]
    var ip: [InstanceView.Address]?
    var locality: String?
    var extendedProperties: [String: String]
    var configuration: String?
    var balancer: Balancer
    var endpoints: Endpoints?
    var fault: String?
    /// Cellar: the lifecycle statechart's current leaf state.
    var lifecycleState: String

    enum CodingKeys: String, CodingKey {
        case id, name, task, created, updated, links, datastore, instances, ip, locality, configuration, balancer, endpoints, fault
        case extendedProperties = "extended_properties"
        case lifecycleState = "lifecycle_state"
    }

    /// `members` are the members' instance rows (detail); without them members show id, name, type and links.
    /// `replicationLag`: active-passive standbys' lag by slot name, from the primary's last report.
    init(_ record: ClusterRecord, members: [String: InstanceRecord]?, request: Request, replicationLag: [String: Int64] = [:]) {
        let state = record.state
        id = state.id
        name = state.name
        let task = state.task
        self.task = TaskView(id: task.id, name: task.name, description: task.description)
        created = state.createdAt.map(JSONResponse.timestamp)
        updated = JSONResponse.timestamp(record.updated)
        links = Link.resource(request, project: state.projectId, collection: "clusters", id: state.id)
        datastore = state.datastore.map { DatastoreRef(type: $0.type, version: $0.version) }
        let project = state.projectId
        let activePassive = state.strategy == .activePassive
        instances = state.members.map { member in
            var view = Member(
                id: member.id, name: member.name, type: member.type,
                links: Link.resource(request, project: project, collection: "instances", id: member.id))
            if activePassive {
                view.role = state.role(of: member.id)
                view.type = view.role ?? member.type
                view.weight = member.promotionWeight
                if members != nil, view.role == "replica" { view.replicationLagBytes = replicationLag[Cluster.replicationSlotName(of: member.id)] }
            }
            if let members {
                let row = members[member.id]
                view.status = row?.status ?? "BUILD"
                view.operatingStatus = row?.operatingStatus ?? ""
                view.flavor = InstanceView.FlavorRef(
                    id: member.flavorId, links: Link.resource(request, project: project, collection: "flavors", id: member.flavorId))
                view.volume = InstanceView.Volume(size: member.volumeSize)
                view.ip = row?.address.map { [InstanceView.Address(address: $0, type: "private")] } ?? []
            }
            return view
        }
        ip = state.balancer.map { [InstanceView.Address(address: $0.address, type: "private")] } ?? []
        locality = state.locality
        extendedProperties = ["algorithm": state.algorithm.rawValue]
        configuration = state.configurationId
        let port = state.datastore.flatMap(Datastores.descriptor(of:))?.standardPort
        balancer = Balancer(address: state.balancer?.address, port: state.balancer == nil ? nil : port, algorithm: state.algorithm.rawValue)
        if activePassive {
            extendedProperties["synchronous"] = state.synchronous ? "true" : "false"
            extendedProperties["weights"] = state.members.map { String($0.promotionWeight) }.joined(separator: ":")
            if let address = state.balancer?.address, let port {
                endpoints = Endpoints(readWrite: "\(address):\(port)", readOnly: "\(address):\(port + 1)")
            }
        }
        fault = state.failure?.reason
        lifecycleState = state.leaf
    }
}

struct ClusterEnvelope: Encodable { var cluster: ClusterView }
struct ClusterList: Encodable { var clusters: [ClusterView] }
