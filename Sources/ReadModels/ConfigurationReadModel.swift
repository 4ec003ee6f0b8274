import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// One configuration group as the API shows it.
public struct ConfigurationRecord: Sendable, Equatable {
    public var id: String
    public var projectID: String
    public var name: String
    public var description: String?
    public var datastoreName: String
    public var datastoreVersionName: String
    public var datastoreVersionID: String
    public var values: [String: ParameterValue]
    public var created: Date
    public var updated: Date
    /// Instances (not deleted) that have the group attached.
    public var instanceCount: Int
}

/// Queries over `configuration_groups` (and the instances that use them).
public struct ConfigurationReadModel: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// `project`'s groups (every project's for nil), oldest first.
    public func groups(project: String?) async throws -> [ConfigurationRecord] {
        try await query(id: nil, project: project)
    }

    /// One group of `project` (nil: absent, deleted or another project's).
    public func group(_ id: String, project: String?) async throws -> ConfigurationRecord? {
        try await query(id: id, project: project).first
    }

    /// The instances (id, name) that have group `id` attached.
    public func instances(using id: String) async throws -> [(id: String, name: String)] {
        let rows = try await client.query(
            "SELECT id, name FROM instances WHERE configuration_id = \(id) AND NOT deleted ORDER BY created_at, id", logger: logger)
        var result: [(id: String, name: String)] = []
        for try await (instance, name) in rows.decode((String, String).self) { result.append((instance, name)) }
        return result
    }

    private func query(id: String?, project: String?) async throws -> [ConfigurationRecord] {
        let rows = try await client.query(
            """
            SELECT g.id, g.project_id, g.name, g.description, g.datastore_name, g.datastore_version_name,
                g.datastore_version_id, g.parameter_values::text, g.created_at, g.updated_at,
                (SELECT count(*)::int FROM instances i WHERE i.configuration_id = g.id AND NOT i.deleted)
            FROM configuration_groups g
            WHERE NOT g.deleted AND (\(id)::text IS NULL OR g.id = \(id)) AND (\(project)::text IS NULL OR g.project_id = \(project))
            ORDER BY g.created_at, g.id
            """, logger: logger)
        var records: [ConfigurationRecord] = []
        for try await row in rows {
            let column = row.makeRandomAccess()
            let values = try JSONDecoder().decode([String: ParameterValue].self, from: Data(try column[7].decode(String.self).utf8))
            records.append(
                ConfigurationRecord(
                    id: try column[0].decode(String.self), projectID: try column[1].decode(String.self),
                    name: try column[2].decode(String.self), description: try column[3].decode(String?.self),
                    datastoreName: try column[4].decode(String.self), datastoreVersionName: try column[5].decode(String.self),
                    datastoreVersionID: try column[6].decode(String.self), values: values,
                    created: try column[8].decode(Date.self), updated: try column[9].decode(Date.self),
                    instanceCount: try column[10].decode(Int.self)))
        }
        return records
    }
}
