import Bus
import Crypto
import Foundation
import GuestProtocol
import Lifecycle
import ObjectStore
import Secrets

/// The backup sagas' actions: the store's grant and the backup's key made here (the control plane alone holds
/// the store's credentials and Cellar's secret key), the streaming done by the guest.
struct BackupActions: Sendable {
    let context: SagaContext

    var services: TaskManagerServices { context.services }

    /// How long a guest's grant on its backup's prefix lasts: the store step's own limit.
    static let grantLifetime = Duration.seconds(3600)

    /// The project's container in the store.
    static func container(of projectID: String) -> String { "cellar-backups-\(projectID)" }

    /// What a backup's key is bound to when sealed by Cellar's secret key for the log.
    static func keyContext(of backupID: String) -> String { "backup:\(backupID)" }

    func record(_ command: Backup.Command, on backupID: String) async throws {
        try await services.backups.execute(command, on: backupID, metadata: context.metadata)
    }

    /// A PUT grant on `<backup id>/`, a new key sealed for the instance's guest, the guest's streaming, then
    /// `BackupCompleted` with the objects it wrote and the key sealed for the log.
    func store(instanceID: String, backupID: String) async throws {
        guard let store = services.objectStore else {
            throw PermanentFailure("no object store is configured for backups (CELLAR_BACKUP_STORE_URL)")
        }
        let backup = try await services.backups.load(backupID).state
        guard backup.isRunning else { return }
        let container = Self.container(of: backup.projectId)
        try await store.ensureContainer(container)
        let access = try await store.signedAccess(.put, container: container, prefix: "\(backupID)/", expiresIn: Self.grantLifetime)
        let key = SealedStream.makeKey().withUnsafeBytes { Data($0).base64EncodedString() }
        let forGuest = SealedPassword(
            sealed: try services.secrets.guestBox(for: instanceID).seal(key, context: SealedPassword.backupKeyPurpose(backup: backupID)))
        let request = CreateBackupRequest(backupId: backupID, grant: ObjectGrant(base: access.base, query: access.query), sealedKey: forGuest)
        let answer = try await whileGuestRuns(instanceID) {
            try await context.callGuest(instanceID, GuestMethod.createBackup.rawValue, request, limit: Self.grantLifetime)
        }
        let result = try answer.decode(as: CreateBackupResult.self)
        let storedBytes = result.objects.reduce(Int64(0)) { $0 + $1.bytes }
        let checksum = SHA256.hash(data: Data(result.objects.map(\.sha256).joined(separator: "\n").utf8))
            .map { String(format: "%02x", $0) }.joined()
        try await record(
            .recordCompleted(
                locationRef: access.base, size: Double(storedBytes) / 1_073_741_824, checksum: "sha256:\(checksum)",
                stored: Backup.Stored(
                    container: container, objects: result.objects,
                    sealedKey: try services.secrets.box.seal(key, context: Self.keyContext(of: backupID)))),
            on: backupID)
    }

    /// `call`'s answer, unless the instance's guest agent stops or starts again first (a killed agent never
    /// answers; the backup fails at once instead of at the end of its grant).
    private func whileGuestRuns(_ instanceID: String, _ call: @escaping @Sendable () async throws -> JSONValue) async throws -> JSONValue {
        let compute = services.compute
        guard let incarnation = await compute.guestIncarnation(instanceID: instanceID) else {
            throw PermanentFailure("the guest agent of instance \(instanceID) is not running")
        }
        return try await withThrowingTaskGroup(of: JSONValue?.self) { group in
            group.addTask { try await call() }
            group.addTask {
                while true {
                    try await Task.sleep(for: .seconds(1))
                    let now = await compute.guestIncarnation(instanceID: instanceID)
                    guard now == incarnation else {
                        throw PermanentFailure(
                            "the guest agent of instance \(instanceID) \(now == nil ? "stopped" : "was restarted") during the backup; nothing of it is kept"
                        )
                    }
                }
            }
            defer { group.cancelAll() }
            guard let answer = try await group.next(), let answer else { throw CancellationError() }
            return answer
        }
    }

    /// Removes every object under the backup's prefix in its project's container (a failed backup's too).
    func removeObjects(of backupID: String) async throws {
        let backup = try await services.backups.load(backupID).state
        guard backup.instanceId != nil else { return }  // an import: its objects are not Cellar's
        guard let store = services.objectStore else {
            throw PermanentFailure("no object store is configured for backups (CELLAR_BACKUP_STORE_URL)")
        }
        let container = backup.stored?.container ?? Self.container(of: backup.projectId)
        for object in try await store.list(container: container, prefix: "\(backupID)/") {
            try await store.delete(container: container, object: object.name)
        }
    }

    /// What a guest needs to restore `backupID` into `instanceID`: a GET grant on its prefix, its objects, its key
    /// sealed for that guest. Refuses a backup that is not complete.
    func restoreSource(of backupID: String, into instanceID: String) async throws -> RestoreSource {
        guard let store = services.objectStore else {
            throw PermanentFailure("no object store is configured for backups (CELLAR_BACKUP_STORE_URL)")
        }
        let backup = try await services.backups.load(backupID).state
        guard let stored = backup.stored, backup.status == "COMPLETED" else {
            throw PermanentFailure("backup \(backupID) is \(backup.status.isEmpty ? "unknown" : backup.status), not COMPLETED: nothing to restore")
        }
        let access = try await store.signedAccess(.get, container: stored.container, prefix: "\(backupID)/", expiresIn: Self.grantLifetime)
        let key = try services.secrets.box.open(stored.sealedKey, context: Self.keyContext(of: backupID))
        return RestoreSource(
            backupId: backupID, grant: ObjectGrant(base: access.base, query: access.query), objects: stored.objects,
            sealedKey: SealedPassword(
                sealed: try services.secrets.guestBox(for: instanceID).seal(key, context: SealedPassword.backupKeyPurpose(backup: backupID))))
    }
}
