import Foundation
import Lifecycle
import ReadModels

/// `POST /configurations`.
struct CreateConfigurationRequest: Decodable {
    struct Body: Decodable {
        struct DatastoreChoice: Decodable {
            var type: String?
            var version: String?
        }
        var name: String
        var description: String?
        var datastore: DatastoreChoice?
        var values: [String: ParameterValue]?
    }
    var configuration: Body
}

/// `PATCH` and `PUT /configurations/{id}`.
struct ChangeConfigurationRequest: Decodable {
    struct Body: Decodable {
        var values: [String: ParameterValue]?
        var name: String?
        var description: String?
    }
    var configuration: Body
}

/// A group as Trove's `DetailedConfigurationView` (show, create) or `ConfigurationView` (list) writes it.
struct ConfigurationView: Encodable {
    var id: String
    var name: String
    var description: String?
    var values: [String: ParameterValue]?
    var created: String
    var updated: String
    var instanceCount: Int?
    var datastoreName: String
    var datastoreVersionID: String
    var datastoreVersionName: String
    var datastoreVersionNumber: String?

    enum CodingKeys: String, CodingKey {
        case id, name, description, values, created, updated
        case instanceCount = "instance_count"
        case datastoreName = "datastore_name"
        case datastoreVersionID = "datastore_version_id"
        case datastoreVersionName = "datastore_version_name"
        case datastoreVersionNumber = "datastore_version_number"
    }

    init(_ record: ConfigurationRecord, detailed: Bool) {
        id = record.id
        name = record.name
        description = record.description
        created = JSONResponse.timestamp(record.created)
        updated = JSONResponse.timestamp(record.updated)
        datastoreName = record.datastoreName
        datastoreVersionID = record.datastoreVersionID
        datastoreVersionName = record.datastoreVersionName
        if detailed {
            values = record.values
            instanceCount = record.instanceCount
            datastoreVersionNumber = record.datastoreVersionName
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(description, forKey: .description)  // null when unset, as Trove writes it
        try container.encodeIfPresent(values, forKey: .values)
        try container.encode(created, forKey: .created)
        try container.encode(updated, forKey: .updated)
        try container.encodeIfPresent(instanceCount, forKey: .instanceCount)
        try container.encode(datastoreName, forKey: .datastoreName)
        try container.encode(datastoreVersionID, forKey: .datastoreVersionID)
        try container.encode(datastoreVersionName, forKey: .datastoreVersionName)
        try container.encodeIfPresent(datastoreVersionNumber, forKey: .datastoreVersionNumber)
    }
}

/// A datastore parameter as Trove's `ConfigurationParameterView` writes it (plus its unit and description).
struct ParameterView: Encodable {
    var name: String
    var datastoreVersionID: String
    var restartRequired: Bool
    var type: String
    var min: ParameterValue?
    var max: ParameterValue?
    var allowedValues: [String]?
    var unit: String?
    var description: String

    enum CodingKeys: String, CodingKey {
        case name, type, min, max, unit, description
        case datastoreVersionID = "datastore_version_id"
        case restartRequired = "restart_required"
        case allowedValues = "allowed_values"
    }

    init(_ parameter: ConfigurationParameter, versionID: String) {
        name = parameter.name
        datastoreVersionID = versionID
        restartRequired = parameter.restartRequired
        type = parameter.type.rawValue
        func bound(_ value: Double?) -> ParameterValue? {
            guard let value else { return nil }
            return parameter.type == .integer && abs(value) < 9.2e18 ? .integer(Int64(value)) : .real(value)
        }
        min = bound(parameter.min)
        max = bound(parameter.max)
        allowedValues = parameter.allowedValues.isEmpty ? nil : parameter.allowedValues
        unit = parameter.unit
        description = parameter.description
    }
}
