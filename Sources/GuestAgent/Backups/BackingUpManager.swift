import Crypto
import Foundation
import GuestProtocol

/// A datastore whose backups the guest takes and restores (`create_backup`; `prepare` from a backup).
protocol BackingUpManager: DatastoreManager {
    /// Streams a full backup of the running server, sealed under `key`, through `grant`.
    func createBackup(key: SymmetricKey, grant: ObjectGrant) async throws -> CreateBackupResult
    /// Before `prepare`: the data directory from the backup instead of a new one (once; a repeated call finds it).
    func restoreIfNeeded(_ source: RestoreSource, key: SymmetricKey) async throws
}
