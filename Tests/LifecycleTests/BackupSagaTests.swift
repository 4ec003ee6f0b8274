import Foundation
import Lifecycle
import Testing

/// Backups as pure saga programs: what taking and deleting a backup ask of the guest, the store and the log, and
/// what a failure leaves. No I/O.
@Suite("Backup saga programs")
struct BackupSagaTests {
    let instanceChart: Statechart
    let backupChart: Statechart
    init() throws {
        instanceChart = try Charts.instance
        backupChart = try Charts.backup
    }

    static let active: [Instance.Event] = [
        .instanceCreateRequested(Samples.instanceSpec()), .computeAllocated(.init(serverId: "srv-1", address: "127.0.3.7")),
        .guestRegistered, .instanceBecameActive,
    ]
    static let backingUp = active + [.backupStarted(.init(backupId: "bk-1"))]
    static let requested: [Backup.Event] = [.backupCreateRequested(Samples.backupSpec)]
    static let building = requested + [.backupBuildStarted]
    static let artifact = Backup.Artifact(
        locationRef: "http://store/bk-1/", size: 0.1, checksum: "sha256:00",
        stored: .init(container: "cellar-backups-proj-1", objects: [.init(name: "part-00000", bytes: 10, sha256: "00")], sealedKey: "sealed"))

    func facts(instance: [Instance.Event], backup: [Backup.Event]) -> Saga.Facts {
        Saga.Facts(instance: Instance.replay(instance, chart: instanceChart), backup: Backup.replay(backup, chart: backupChart))
    }

    func actions<Program: SagaProgram>(_ program: Program.Type, done steps: [Program.Step] = [], _ facts: Saga.Facts) -> [Saga.Action] {
        let start = Saga.Start(
            saga: program.kind.rawValue, instanceId: "inst-1", triggerStream: "backup-bk-1", triggerVersion: 1,
            triggerType: "BackupCreateRequested", requestId: "req-1")
        let saga = Saga.replay(
            [.sagaStarted(start)]
                + steps.flatMap { step -> [Saga.Event] in
                    [.stepStarted(.init(step: step.rawValue, attempt: 1)), .stepSucceeded(.init(step: step.rawValue, attempt: 1))]
                })
        if case .run(_, _, .act(let actions)) = Saga.decide(saga, of: program, facts: facts, at: Clock.t1) { return actions }
        return []
    }

    @Test("a new backup goes BUILDING with its instance BACKUP; the store step streams it and ends the instance's BACKUP")
    func takes() {
        #expect(
            actions(Saga.CreateBackup.self, facts(instance: Self.active, backup: Self.requested)) == [
                .recordBackup(.recordBuildStarted, backupId: "bk-1"), .record(.startBackup(backupId: "bk-1"), instanceId: "inst-1"),
            ])
        #expect(
            actions(Saga.CreateBackup.self, done: [.markBuilding], facts(instance: Self.backingUp, backup: Self.building)) == [
                .storeBackup(instanceId: "inst-1", backupId: "bk-1"),
                .record(.finishBackup(backupId: "bk-1", succeeded: true), instanceId: "inst-1"),
            ])
    }

    @Test("repeated after a crash: nothing twice (a completed backup only ends the instance's BACKUP)")
    func repeats() {
        #expect(
            actions(Saga.CreateBackup.self, facts(instance: Self.backingUp, backup: Self.building)).isEmpty,
            "BUILDING and BACKUP already: marking again does nothing")
        #expect(
            actions(
                Saga.CreateBackup.self, done: [.markBuilding],
                facts(instance: Self.backingUp, backup: Self.building + [.backupCompleted(Self.artifact)]))
                == [.record(.finishBackup(backupId: "bk-1", succeeded: true), instanceId: "inst-1")])
    }

    @Test("a failure leaves the backup FAILED with the reason and the instance ACTIVE again; a deleted instance cancels it")
    func fails() {
        #expect(
            Saga.CreateBackup.failure(reason: "the guest agent stopped", facts(instance: Self.backingUp, backup: Self.building)) == [
                .recordBackup(.recordFailure(reason: "the guest agent stopped"), backupId: "bk-1"),
                .record(.finishBackup(backupId: "bk-1", succeeded: false), instanceId: "inst-1"),
            ])
        let deleting = facts(instance: Self.active + [.deleteRequested], backup: Self.requested)
        #expect(
            actions(Saga.CreateBackup.self, deleting) == [
                .recordBackup(.recordFailure(reason: "instance inst-1 is being deleted; the work stops here"), backupId: "bk-1"),
                .cancel(reason: "instance inst-1 is being deleted; the work stops here"),
            ])
    }

    @Test("delete removes the objects, then the backup; one not being deleted is left alone")
    func deletes() {
        let deleting = Self.building + [.backupCompleted(Self.artifact), .backupDeleteRequested]
        #expect(actions(Saga.DeleteBackup.self, facts(instance: Self.active, backup: deleting)) == [.removeBackupObjects(backupId: "bk-1")])
        #expect(
            actions(Saga.DeleteBackup.self, done: [.removeObjects], facts(instance: Self.active, backup: deleting)) == [
                .recordBackup(.recordDeleted, backupId: "bk-1")
            ])
        #expect(
            Saga.DeleteBackup.failure(reason: "store away", facts(instance: Self.active, backup: deleting)) == [
                .recordBackup(.recordDeleteFailure(reason: "store away"), backupId: "bk-1")
            ])
        #expect(actions(Saga.DeleteBackup.self, facts(instance: Self.active, backup: Self.building + [.backupCompleted(Self.artifact)])).isEmpty)
    }
}
