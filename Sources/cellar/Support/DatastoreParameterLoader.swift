import CellarCLI
import Foundation
import GuestAgent
import LocalServers
import Logging
import ReadModels

/// Fills the catalog of each datastore version (parameters, character sets, collations) from a throw-away server
/// of this machine's binaries, by the version's manager.
enum DatastoreParameterLoader {
    /// Loads the catalog of every version (only of those without one when `onlyMissing`); returns the versions
    /// loaded and how many parameters each has.
    @discardableResult
    static func load(into catalog: OperatorCatalog, onlyMissing: Bool, logger: Logger) async throws -> [(DatastoreVersion, Int)] {
        let versions = try await onlyMissing ? catalog.versionsWithoutParameters() : catalog.versions()
        guard !versions.isEmpty else { return [] }
        let osUser = getuid() == 0 ? ControlPlaneSettings.fromEnvironment(stateDirectory: nil).databaseOSUser : nil
        var loaded: [(DatastoreVersion, Int)] = []
        for manager in Set(versions.map(\.manager)).sorted() {
            guard let reader = DatastoreCatalogReaders.reader(forManager: manager) else {
                logger.warning("no catalog reader for this manager", metadata: ["manager": "\(manager)"])
                continue
            }
            let described = try await onDedicatedThread { try reader.describe(osUser: osUser, logger: logger) }
            for version in versions where version.manager == manager {
                try await catalog.storeParameters(described.parameters, characterSets: described.characterSets, ofVersion: version.id)
                loaded.append((version, described.parameters.count))
            }
            logger.info(
                "loaded datastore parameters",
                metadata: [
                    "manager": "\(manager)", "parameters": "\(described.parameters.count)",
                    "character_sets": "\(described.characterSets.characterSets.count)", "collations": "\(described.characterSets.collations.count)",
                ])
        }
        return loaded
    }
}
