import Foundation

extension Saga {
    /// `BackupCreateRequested`: the backup goes BUILDING, the instance's guest streams its datastore, sealed, into
    /// the object store through a grant on the backup's prefix, and the backup is COMPLETED with its objects; any
    /// failure leaves it FAILED with the reason (objects already written stay invisible: a backup lists only what
    /// its completion recorded, and its prefix is removed with it). The subject is the instance, so a backup never
    /// runs beside a resize, a restart or a delete of it.
    public enum CreateBackup: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case markBuilding, store }

        public static let kind = Kind.createBackup

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .markBuilding: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            // A backup streams the whole datastore: long, and not retried (a retry would start over from nothing).
            case .store: .init(timeout: .seconds(3600), retry: .init(maxAttempts: 1))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            guard let backup = facts.backup, let instanceID = backup.instanceId else {
                return [.failPermanently(reason: "CreateBackup was not started by a BackupCreateRequested")]
            }
            if let reason = unwanted(facts.instance) {
                return backup.isRunning
                    ? [.recordBackup(.recordFailure(reason: reason), backupId: backup.id), .cancel(reason: reason)] : [.cancel(reason: reason)]
            }
            let backingUp = facts.instance.phase == .backingUp
            switch step {
            case .markBuilding:
                // The instance shows BACKUP meanwhile (as Trove's does); a guest not healthy refuses it here.
                return .act(
                    (backup.status == "NEW" ? [.recordBackup(.recordBuildStarted, backupId: backup.id)] : [])
                        + (backingUp || !backup.isRunning ? [] : [.record(.startBackup(backupId: backup.id), instanceId: instanceID)]))
            case .store:
                return .act(
                    (backup.isRunning ? [.storeBackup(instanceId: instanceID, backupId: backup.id)] : [])
                        + (backingUp ? [.record(.finishBackup(backupId: backup.id, succeeded: true), instanceId: instanceID)] : []))
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            guard let backup = facts.backup else { return [] }
            var actions: [Action] = backup.isRunning ? [.recordBackup(.recordFailure(reason: reason), backupId: backup.id)] : []
            if facts.instance.phase == .backingUp, let instanceID = backup.instanceId {
                actions.append(.record(.finishBackup(backupId: backup.id, succeeded: false), instanceId: instanceID))
            }
            return actions
        }
    }

    /// `BackupDeleteRequested`: every object under the backup's prefix is removed from the store (those a failed
    /// backup left too), then the backup is deleted; a failure leaves it DELETE_FAILED with the reason, and a
    /// new delete tries again.
    public enum DeleteBackup: SagaProgram {
        public enum Step: String, CaseIterable, Sendable { case removeObjects, markDeleted }

        public static let kind = Kind.deleteBackup

        public static func policy(of step: Step) -> StepPolicy<Compensation> {
            switch step {
            case .removeObjects: .init(timeout: .seconds(600), retry: .init(maxAttempts: 3, firstDelay: .seconds(1)))
            case .markDeleted: .init(timeout: .seconds(30), retry: .init(maxAttempts: 5))
            }
        }

        public static func work(for step: Step, _ facts: Facts) -> StepWork {
            guard let backup = facts.backup else { return [.failPermanently(reason: "DeleteBackup was not started by a BackupDeleteRequested")] }
            guard backup.leaf == "deleting" else { return [] }
            switch step {
            case .removeObjects: return [.removeBackupObjects(backupId: backup.id)]
            case .markDeleted: return [.recordBackup(.recordDeleted, backupId: backup.id)]
            }
        }

        public static func failure(reason: String, _ facts: Facts) -> [Action] {
            guard let backup = facts.backup, backup.leaf == "deleting" else { return [] }
            return [.recordBackup(.recordDeleteFailure(reason: reason), backupId: backup.id)]
        }
    }
}
