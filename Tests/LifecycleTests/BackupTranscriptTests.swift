import Foundation
import Lifecycle
import Testing

/// Backup decide/evolve, one step per line.
@Suite("Backup transcripts")
struct BackupTranscriptTests {
    let chart: Statechart
    init() throws { chart = try Charts.backup }

    static let created: [Backup.Event] = [.backupCreateRequested(Samples.backupSpec)]
    static let artifact = Backup.Artifact(locationRef: "file:///backups/bk-1.tar.zst", size: 0.12, checksum: "sha256:ab12")
    static let completed = created + [.backupBuildStarted, .backupSaveStarted, .backupCompleted(artifact)]

    func state(_ history: [Backup.Event]) -> Backup.State { Backup.replay(history, chart: chart) }

    func decide(_ command: Backup.Command, given history: [Backup.Event]) throws(Rejection) -> [Backup.Event] {
        try Backup.decide(command, given: history, chart: chart, at: Clock.t1)
    }

    static let request = Backup.CreateRequest(
        id: "bk-1", projectId: "proj-1", name: "nightly", description: "before upgrade", instanceId: "inst-1",
        datastore: Samples.postgres)

    @Test("create, build, save, complete")
    func lifecycle() throws {
        #expect(try Backup.decide(.create(Self.request), given: [], chart: chart, at: Clock.t0) == Self.created)
        #expect(state(Self.created).status == "NEW")
        #expect(state(Self.created).isRunning)
        #expect(try decide(.recordBuildStarted, given: Self.created) == [.backupBuildStarted])
        #expect(state(Self.created + [.backupBuildStarted]).status == "BUILDING")
        #expect(try decide(.recordSaveStarted, given: Self.created + [.backupBuildStarted]) == [.backupSaveStarted])
        #expect(
            try decide(
                .recordCompleted(locationRef: Self.artifact.locationRef, size: 0.12, checksum: "sha256:ab12"),
                given: Array(Self.completed.dropLast())) == [.backupCompleted(Self.artifact)])
        let done = state(Self.completed)
        #expect(done.status == "COMPLETED")
        #expect(!done.isRunning)
        #expect(done.locationRef == Self.artifact.locationRef)
        #expect(done.version == 4)
    }

    @Test("invalid requests")
    func invalid() {
        var request = Self.request
        request.name = ""
        #expect(throws: Rejection.invalidInput("The backup name must not be empty")) {
            try Backup.decide(.create(request), given: [], chart: chart, at: Clock.t0)
        }
        request = Self.request
        request.incremental = true
        #expect(throws: Rejection.invalidInput("An incremental backup needs a parent backup")) {
            try Backup.decide(.create(request), given: [], chart: chart, at: Clock.t0)
        }
    }

    @Test("a running backup cannot be deleted")
    func deleteWhileRunning() {
        #expect(
            throws: Rejection.notAllowedInState(
                "Backup bk-1 is BUILDING (state building); BackupDeleteRequested is allowed only in COMPLETED, FAILED, "
                    + "RESTORED or DELETE_FAILED"
            )
        ) { try decide(.delete, given: Self.created + [.backupBuildStarted]) }
    }

    @Test("delete keeps showing the last status; a failed delete can be retried")
    func delete() throws {
        #expect(try decide(.delete, given: Self.completed) == [.backupDeleteRequested])
        let deleting = Self.completed + [.backupDeleteRequested]
        #expect(state(deleting).phase == .deleting)
        #expect(state(deleting).status == "COMPLETED")
        #expect(
            try decide(.recordDeleteFailure(reason: "storage unreachable"), given: deleting)
                == [.backupDeleteFailed(Failure(reason: "storage unreachable", at: Clock.t1))])
        let deleteFailed = deleting + [.backupDeleteFailed(Failure(reason: "storage unreachable", at: Clock.t1))]
        #expect(state(deleteFailed).status == "DELETE_FAILED")
        #expect(try decide(.delete, given: deleteFailed) == [.backupDeleteRequested])
        let gone = deleteFailed + [.backupDeleteRequested, .backupDeleted]
        #expect(throws: Rejection.notFound("Backup bk-1 could not be found")) { try decide(.delete, given: gone) }
    }

    @Test("a failed backup shows FAILED with its reason")
    func failure() throws {
        let failed = Self.created + [.backupBuildStarted, .backupFailed(Failure(reason: "pg_basebackup exited with 1", at: Clock.t1))]
        #expect(state(failed).status == "FAILED")
        #expect(state(failed).failure?.reason == "pg_basebackup exited with 1")
        #expect(throws: Rejection.invalidInput("A failure needs a reason")) {
            try decide(.recordFailure(reason: ""), given: Self.created)
        }
    }

    @Test("an imported backup is RESTORED")
    func importBackup() throws {
        let request = Backup.ImportRequest(
            id: "bk-2", projectId: "proj-1", name: "imported", locationRef: "file:///backups/bk-2.tar.zst", size: 0.5,
            datastore: Samples.postgres)
        let events = try Backup.decide(.importBackup(request), given: [], chart: chart, at: Clock.t0)
        #expect(state(events).status == "RESTORED")
        #expect(state(events).size == 0.5)
    }
}
