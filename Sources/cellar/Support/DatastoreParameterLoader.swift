import Foundation
import GuestAgent
import LocalServers
import Logging
import ReadModels

/// Fills `datastore_parameters` for the PostgreSQL versions from a throw-away server of this machine's binaries.
enum DatastoreParameterLoader {
    /// Loads the parameters of every PostgreSQL version (only those without any when `onlyMissing`).
    @discardableResult
    static func load(into catalog: OperatorCatalog, onlyMissing: Bool, logger: Logger) async throws -> [(DatastoreVersion, Int)] {
        let versions = try await onlyMissing ? catalog.versionsWithoutParameters() : catalog.versions()
        let candidates = versions.filter { $0.manager == "postgresql" }
        guard !candidates.isEmpty else { return [] }
        let osUser = getuid() == 0 ? ControlPlaneSettings.fromEnvironment(stateDirectory: nil).databaseOSUser : nil
        let parameters = try await onDedicatedThread { try PostgreSQLParameterCatalog.describe(osUser: osUser, logger: logger) }
        var loaded: [(DatastoreVersion, Int)] = []
        for version in candidates {
            try await catalog.storeParameters(parameters, ofVersion: version.id)
            loaded.append((version, parameters.count))
        }
        logger.info("loaded datastore parameters", metadata: ["versions": "\(candidates.map(\.name))", "parameters": "\(parameters.count)"])
        return loaded
    }
}
