import Bus
import Crypto
import Foundation
import GuestProtocol
import LocalServers

/// MariaDB backups: `mariadb-backup --backup --stream=xbstream` over the server's socket as the guest's own account
/// while writes go on; restored by unpacking the stream (`mbstream -x`) into a new data directory and preparing it
/// (`mariadb-backup --prepare`), then handing the data's administrator account to this guest's OS user.
extension MariaDBManager: BackingUpManager {
    /// Where `mariadb-backup` keeps its few working files while it streams (never the data itself).
    var backupWorkDirectory: URL { paths.instanceDirectory.appendingPathComponent("backup-work", isDirectory: true) }

    func createBackup(key: SymmetricKey, grant: ObjectGrant) async throws -> CreateBackupResult {
        try requirePrepared()
        guard isServerRunning() else { throw RemoteFailure(type: "NotRunning", message: "the server is not running: nothing to back up") }
        try? FileManager.default.removeItem(at: backupWorkDirectory)
        try FileManager.default.createDirectory(at: backupWorkDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: backupWorkDirectory) }
        let command = [
            "/usr/bin/mariadb-backup", "--defaults-file=\(paths.optionsFile.path)", "--backup", "--stream=xbstream",
            "--socket=\(paths.socket.path)", "--user=\(MariaDBClient.processUser)", "--target-dir=\(backupWorkDirectory.path)",
        ]
        logger.info("backup started")
        let result = try await BackupStream.store(command: command, key: key, grant: grant)
        logger.info("backup stored", metadata: ["objects": "\(result.objects.count)", "bytes": "\(result.plainBytes)"])
        return result
    }

    func restoreIfNeeded(_ source: RestoreSource, key: SymmetricKey) async throws {
        if FileManager.default.fileExists(atPath: paths.initialized.path) { return }
        try FileManager.default.createDirectory(at: paths.logDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try emptyDataDirectory()  // an interrupted restore starts over
        logger.info("restoring from a backup", metadata: ["backup": "\(source.backupId)"])
        try await BackupStream.restore(source, key: key, into: ["/usr/bin/mbstream", "-x", "-C", paths.data.path])
        let data = paths.data.path
        try await onDedicatedThread {
            try CommandRunner.run("/usr/bin/mariadb-backup", ["--prepare", "--target-dir=\(data)"])
        }
        try writeOptions()
        try await takeOverAdministration()
        try Data().write(to: paths.initialized, options: .atomic)
        logger.info("restored from a backup", metadata: ["backup": "\(source.backupId)"])
    }

    /// The restored data's administrator is the source's guest (its OS user, `unix_socket`): started once without
    /// the grant tables and off the network, the account becomes this guest's, and every other socket-only
    /// account goes (the source's OS user must not log in here).
    private func takeOverAdministration() async throws {
        try FileManager.default.createDirectory(at: paths.socketDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let (paths, client) = (self.paths, self.client)
        let me = MariaDBClient.account(MariaDBClient.processUser, "localhost")
        let pid = try await onDedicatedThread {
            try MariaDBServer.start(
                optionsFile: paths.optionsFile.path, output: paths.errorLog.path, errorLog: paths.errorLog.path, client: client, osUser: nil,
                extraArguments: ["--skip-grant-tables", "--skip-networking"])
        }
        reapWhenExits(pid)
        do {
            try await onDedicatedThread {
                try client.run(
                    """
                    FLUSH PRIVILEGES;
                    CREATE OR REPLACE USER \(me) IDENTIFIED VIA unix_socket;
                    GRANT ALL PRIVILEGES ON *.* TO \(me) WITH GRANT OPTION;
                    """)
                let others = try client.run(
                    """
                    SELECT User, Host FROM mysql.global_priv
                    WHERE JSON_VALUE(Priv, '$.plugin') IN ('unix_socket', 'auth_socket') AND NOT (User = \(MariaDBClient.literal(MariaDBClient.processUser)) AND Host = 'localhost')
                    """)
                for row in others where row.count == 2 { try client.run("DROP USER IF EXISTS \(MariaDBClient.account(row[0], row[1]))") }
            }
        } catch {
            kill(pid, SIGKILL)
            throw error
        }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(60)
        while ProcessStatus.isAlive(pid: pid), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if ProcessStatus.isAlive(pid: pid) { kill(pid, SIGKILL) }
    }
}
