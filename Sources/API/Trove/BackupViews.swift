import Foundation
import Hummingbird
import Lifecycle

/// Trove's backup JSON (`trove/backup/views.py`), from a folded backup.
struct BackupView: Encodable {
    struct DatastoreRef: Encodable {
        var type: String
        var version: String
        /// The catalog's id of that version (`openstack database backup show` prints it).
        var versionID: String?

        enum CodingKeys: String, CodingKey {
            case type, version
            case versionID = "version_id"
        }
    }
    var id: String
    var name: String
    var description: String?
    var locationRef: String?
    var instanceID: String?
    var created: String?
    var updated: String?
    var size: Double?
    var status: String
    var parentID: String?
    var projectID: String
    var datastore: DatastoreRef?

    enum CodingKeys: String, CodingKey {
        case id, name, description, locationRef, created, updated, size, status, datastore
        case instanceID = "instance_id"
        case parentID = "parent_id"
        case projectID = "project_id"
    }

    init(_ state: Backup.State, updated: Date, versionID: String? = nil) {
        id = state.id
        name = state.name
        description = state.description
        locationRef = state.locationRef
        instanceID = state.instanceId
        created = state.createdAt.map(JSONResponse.timestamp)
        self.updated = JSONResponse.timestamp(updated)
        size = state.size
        status = state.status
        parentID = state.parentId
        projectID = state.projectId
        datastore = state.datastore.map { DatastoreRef(type: $0.type, version: $0.version, versionID: versionID) }
    }

    /// Trove writes `null` for an absent location, size or parent, so the keys are always present.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(description, forKey: .description)
        try container.encode(locationRef, forKey: .locationRef)
        try container.encode(instanceID, forKey: .instanceID)
        try container.encode(created, forKey: .created)
        try container.encode(updated, forKey: .updated)
        try container.encode(size, forKey: .size)
        try container.encode(status, forKey: .status)
        try container.encode(parentID, forKey: .parentID)
        try container.encode(projectID, forKey: .projectID)
        try container.encodeIfPresent(datastore, forKey: .datastore)
    }
}
