import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// The configurable parameters of each datastore version (operator data, like the catalog it belongs to).
extension OperatorCatalog {
    /// The parameters of a version, or nil when they were never loaded.
    public func parameters(ofVersion versionID: String) async throws -> [ConfigurationParameter]? {
        let rows = try await client.query("SELECT parameters::text FROM datastore_parameters WHERE version_id = \(versionID)", logger: logger)
        for try await text in rows.decode(String.self) {
            return try JSONDecoder().decode([ConfigurationParameter].self, from: Data(text.utf8))
        }
        return nil
    }

    /// The character sets and collations of a version, or nil when they were never loaded.
    public func characterSets(ofVersion versionID: String) async throws -> CharacterSetCatalog? {
        let rows = try await client.query("SELECT character_sets::text FROM datastore_parameters WHERE version_id = \(versionID)", logger: logger)
        for try await text in rows.decode(String?.self) {
            return try text.map { try JSONDecoder().decode(CharacterSetCatalog.self, from: Data($0.utf8)) }
        }
        return nil
    }

    /// Stores (or replaces) the parameters, character sets and collations of a version.
    public func storeParameters(
        _ parameters: [ConfigurationParameter], characterSets: CharacterSetCatalog? = nil,
        ofVersion versionID: String
    ) async throws {
        let json = String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self)
        let sets = try characterSets.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await client.query(
            """
            INSERT INTO datastore_parameters (version_id, parameters, character_sets) VALUES (\(versionID), \(json)::jsonb, \(sets)::jsonb)
            ON CONFLICT (version_id) DO UPDATE SET parameters = excluded.parameters, character_sets = excluded.character_sets, loaded_at = now()
            """, logger: logger)
    }

    /// Versions whose parameters, character sets or collations were never loaded.
    public func versionsWithoutParameters() async throws -> [DatastoreVersion] {
        let loaded = try await client.query("SELECT version_id FROM datastore_parameters WHERE character_sets IS NOT NULL", logger: logger)
        var ids: Set<String> = []
        for try await id in loaded.decode(String.self) { ids.insert(id) }
        return try await versions().filter { !ids.contains($0.id) }
    }
}
