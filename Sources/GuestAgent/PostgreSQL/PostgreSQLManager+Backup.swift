import Bus
import Crypto
import Foundation
import GuestProtocol
import LocalServers

/// PostgreSQL backups: a base backup (`pg_basebackup`, tar format to stdout, with the WAL it needs to be
/// consistent), taken over the server's private socket as the guest's superuser while writes go on; restored by
/// untarring it into a new data directory, which recovers to the backup's end at its first start.
extension PostgreSQLManager: BackingUpManager {
    func createBackup(key: SymmetricKey, grant: ObjectGrant) async throws -> CreateBackupResult {
        try requirePrepared()
        guard try await isServerRunning() else { throw RemoteFailure(type: "NotRunning", message: "the server is not running: nothing to back up") }
        let binaries = try PostgresBinaries.locate()
        let command = [
            binaries.path("pg_basebackup"), "-D", "-", "-F", "tar", "-X", "fetch", "--checkpoint=fast", "--no-password",
            "-h", paths.socketDirectory.path, "-p", "\(port)", "-U", Self.adminUser,
        ]
        logger.info("backup started")
        let result = try await BackupStream.store(command: command, key: key, grant: grant)
        logger.info("backup stored", metadata: ["objects": "\(result.objects.count)", "bytes": "\(result.plainBytes)"])
        return result
    }

    func restoreIfNeeded(_ source: RestoreSource, key: SymmetricKey) async throws {
        if FileManager.default.fileExists(atPath: paths.initialized.path) { return }
        try FileManager.default.createDirectory(at: paths.logDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // An interrupted restore leaves a half-made directory: start it over.
        try emptyDataDirectory()
        logger.info("restoring from a backup", metadata: ["backup": "\(source.backupId)"])
        try await BackupStream.restore(source, key: key, into: ["/bin/tar", "-x", "--no-same-owner", "-C", paths.data.path, "-f", "-"])
        // The source's role and place are not this server's: it starts as a primary of its own.
        for leftover in ["postmaster.opts", "standby.signal", "recovery.signal", "cellar-replication.conf"] {
            try? FileManager.default.removeItem(at: paths.data.appendingPathComponent(leftover))
        }
        try Data().write(to: paths.initialized, options: .atomic)
        logger.info("restored from a backup", metadata: ["backup": "\(source.backupId)"])
    }
}
