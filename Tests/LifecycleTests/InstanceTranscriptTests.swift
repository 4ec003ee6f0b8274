import Foundation
import Lifecycle
import Testing

/// Instance decide/evolve, one step per line; fixtures are built by driving real events.
@Suite("Instance transcripts")
struct InstanceTranscriptTests {
    let chart: Statechart
    init() throws { chart = try Charts.instance }

    static let created: [Instance.Event] = [.instanceCreateRequested(Samples.instanceSpec())]
    static let active =
        created + [
            .computeAllocated(.init(serverId: "srv-1", address: "127.0.3.7")), .guestRegistered, .instanceBecameActive,
        ]

    func state(_ history: [Instance.Event]) -> Instance.State { Instance.replay(history, chart: chart) }

    func decide(_ command: Instance.Command, given history: [Instance.Event]) throws(Rejection) -> [Instance.Event] {
        try Instance.decide(command, given: history, chart: chart, at: Clock.t1)
    }

    static let request = Instance.CreateRequest(
        id: "inst-1", projectId: "proj-1", name: " orders ", flavorId: "2", volumeSize: 2,
        datastore: Samples.postgres, databases: [.init(name: "orders")],
        users: [.init(name: "app", password: Secret("hunter2-do-not-log"), databases: ["orders"])])

    @Test("reset_status on an ACTIVE instance, as Trove answers it: task NONE, health unknown until the guest reports")
    func resetActive() throws {
        #expect(try decide(.resetStatus, given: Self.active) == [.statusReset])
        let reset = state(Self.active + [.statusReset])
        #expect(reset.status == "ACTIVE")
        #expect(reset.operatingStatus == "ERROR")
        #expect(state(Self.active + [.statusReset, .guestBecameHealthy]).operatingStatus == "HEALTHY")
    }

    @Test("create, build, become active")
    func createToActive() throws {
        #expect(try Instance.decide(.create(Self.request), given: [], chart: chart, at: Clock.t0) == Self.created)
        #expect(state(Self.created).status == "BUILD")
        #expect(state(Self.created).operatingStatus == "")
        #expect(state(Self.created).phase == .allocating)
        #expect(
            try decide(.recordComputeAllocated(serverId: "srv-1", address: "127.0.3.7"), given: Self.created)
                == [.computeAllocated(.init(serverId: "srv-1", address: "127.0.3.7"))])
        #expect(try decide(.recordGuestRegistered, given: Array(Self.active.prefix(2))) == [.guestRegistered])
        #expect(try decide(.recordBecameActive, given: Array(Self.active.prefix(3))) == [.instanceBecameActive])
        let active = state(Self.active)
        #expect(active.status == "ACTIVE")
        #expect(active.operatingStatus == "HEALTHY")
        #expect(active.version == 4)
        #expect(active.name == "orders")
        #expect(active.databases == ["orders"])
        #expect(active.users == [.init(name: "app", host: "%")])
        #expect(active.address == "127.0.3.7")
    }

    @Test("invalid create requests")
    func invalidCreate() {
        var request = Self.request
        request.name = "  "
        #expect(throws: Rejection.invalidInput("The instance name must not be empty")) {
            try Instance.decide(.create(request), given: [], chart: chart, at: Clock.t0)
        }
        request = Self.request
        request.volumeSize = 0
        #expect(throws: Rejection.invalidInput("The volume size must be greater than 0 GB, not 0")) {
            try Instance.decide(.create(request), given: [], chart: chart, at: Clock.t0)
        }
        request = Self.request
        request.replicaOf = "inst-0"
        #expect(throws: Rejection.invalidInput("A replica cannot be created with databases or users; it copies its source")) {
            try Instance.decide(.create(request), given: [], chart: chart, at: Clock.t0)
        }
        #expect(throws: Rejection.notAllowedInState("Instance inst-1 already exists")) {
            try Instance.decide(.create(Self.request), given: Self.active, chart: chart, at: Clock.t0)
        }
    }

    @Test("restart: REBOOT with no operating status, then ACTIVE again")
    func restart() throws {
        #expect(try decide(.restart, given: Self.active) == [.restartRequested])
        #expect(state(Self.active + [.restartRequested]).status == "REBOOT")
        #expect(state(Self.active + [.restartRequested]).operatingStatus == "")
        #expect(try decide(.recordRestarted, given: Self.active + [.restartRequested]) == [.instanceRestarted])
        #expect(state(Self.active + [.restartRequested, .instanceRestarted]).operatingStatus == "HEALTHY")
    }

    @Test("restart while building is refused with the chart's words")
    func restartWhileBuilding() {
        #expect(
            throws: Rejection.notAllowedInState(
                "Instance inst-1 is BUILD (state allocating); RestartRequested is allowed only in ACTIVE or RESTART_REQUIRED"
            )
        ) { try decide(.restart, given: Self.created) }
    }

    @Test("resize: flavor and volume; the state is checked before the arguments")
    func resize() throws {
        #expect(try decide(.resizeFlavor(flavorId: "3"), given: Self.active) == [.flavorResizeRequested(.init(flavorId: "3"))])
        let resizing = Self.active + [.flavorResizeRequested(.init(flavorId: "3"))]
        #expect(state(resizing).status == "RESIZE")
        #expect(try decide(.recordFlavorResized, given: resizing) == [.flavorResized(.init(flavorId: "3"))])
        #expect(state(resizing + [.flavorResized(.init(flavorId: "3"))]).flavorId == "3")
        #expect(throws: Rejection.invalidInput("The new volume size (1 GB) must be larger than the current one (2 GB)")) {
            try decide(.resizeVolume(size: 1), given: Self.active)
        }
        let failed = Self.active + [.restartRequested, .instanceFailed(Failure(reason: "disk", at: Clock.t1))]
        #expect(
            throws: Rejection.notAllowedInState(
                "Instance inst-1 is ERROR (state error); VolumeResizeRequested is allowed only in ACTIVE or RESTART_REQUIRED"
            )
        ) { try decide(.resizeVolume(size: 1), given: failed) }
        let grown = Self.active + [.volumeResizeRequested(.init(size: 4)), .volumeResized(.init(size: 4))]
        #expect(state(grown).volumeSize == 4)
        #expect(state(grown).status == "ACTIVE")
    }

    @Test("a configuration is applied by the guest; settings needing a restart keep RESTART_REQUIRED until one")
    func configuration() throws {
        let group = Instance.ConfigurationRef(configurationId: "cfg-1", values: ["work_mem": .integer(8192), "max_connections": .integer(50)])
        #expect(try decide(.attachConfiguration(group), given: Self.active) == [.configurationAttached(group)])
        let attached = Self.active + [.configurationAttached(group)]
        #expect(state(attached).phase == .configuring)
        #expect(state(attached).status == "ACTIVE")
        #expect(state(attached).configurationValues == group.values)

        let live = attached + [.configurationApplied]
        #expect(state(live).status == "ACTIVE")
        #expect(state(live).appliedConfiguration == group)

        let pending = attached + [.configurationRestartPending(.init(parameters: ["max_connections"]))]
        #expect(state(pending).status == "RESTART_REQUIRED")
        #expect(state(pending).operatingStatus == "HEALTHY")
        #expect(state(pending).pendingRestart == ["max_connections"])
        #expect(try decide(.restart, given: pending) == [.restartRequested])
        let restarted = pending + [.restartRequested, .instanceRestarted]
        #expect(state(restarted).status == "ACTIVE")
        #expect(state(restarted).pendingRestart == nil)

        #expect(throws: Rejection.notAllowedInState("Instance inst-1 already has configuration cfg-1 attached; detach it first")) {
            try decide(.attachConfiguration(.init(configurationId: "cfg-2")), given: live)
        }
        #expect(throws: Rejection.notAllowedInState("Instance inst-1 has no configuration attached")) {
            try decide(.detachConfiguration, given: Self.active)
        }
        #expect(throws: Rejection.notAllowedInState("Instance inst-1 does not have configuration cfg-9 attached")) {
            try decide(.updateConfiguration(.init(configurationId: "cfg-9")), given: live)
        }
    }

    @Test("a refused configuration leaves the instance with what the guest had")
    func refusedConfiguration() throws {
        let first = Instance.ConfigurationRef(configurationId: "cfg-1", values: ["work_mem": .integer(8192)])
        let live = Self.active + [.configurationAttached(first), .configurationApplied]
        let changed = Instance.ConfigurationRef(configurationId: "cfg-1", values: ["work_mem": .integer(1)])
        let refused = live + [.configurationUpdated(changed), .configurationApplyFailed(.init(reason: "invalid value"))]
        #expect(state(refused).status == "ACTIVE")
        #expect(state(refused).configurationValues == first.values)

        // A refusal while a restart was pending keeps RESTART_REQUIRED.
        let pending = Self.active + [.configurationAttached(first), .configurationRestartPending(.init(parameters: ["shared_buffers"]))]
        let refusedAgain = pending + [.configurationUpdated(changed), .configurationApplyFailed(.init(reason: "no"))]
        #expect(state(refusedAgain).status == "RESTART_REQUIRED")

        let detached = live + [.configurationDetached, .configurationApplied]
        #expect(state(detached).configurationId == nil)
        #expect(state(detached).appliedConfiguration == nil)
    }

    @Test("rename while ACTIVE or after a failure; never to an empty name")
    func rename() throws {
        #expect(try decide(.rename(name: "  orders  "), given: Self.active) == [.instanceRenamed(.init(name: "orders"))])
        #expect(state(Self.active + [.instanceRenamed(.init(name: "orders"))]).name == "orders")
        #expect(throws: Rejection.invalidInput("The instance name must not be empty")) { try decide(.rename(name: " "), given: Self.active) }
    }

    @Test("access rules take CIDR networks only")
    func access() throws {
        let rule = Instance.Access(isPublic: false, allowedCidrs: ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"])
        #expect(try decide(.requestGuestChange(.updateAccess(rule)), given: Self.active) == [.guestChangeRequested(.updateAccess(rule))])
        for bad in ["10.0.0.0/33", "not-a-net", "300.1.1.1/8", "10.0.0/8"] {
            #expect(throws: Rejection.self) {
                try decide(.requestGuestChange(.updateAccess(.init(isPublic: false, allowedCidrs: [bad]))), given: Self.active)
            }
        }
        let applied = Self.active + [.guestChangeApplied(.updateAccess(rule))]
        #expect(state(applied).access == rule)
    }

    @Test("users are name@host: one name on two hosts is two users; changes name the account they touch")
    func userAccounts() throws {
        let local = Instance.UserSpec(name: "app", host: "localhost", databases: [], passwordSet: true)
        let both = Self.active + [.guestChangeApplied(.createUsers([local]))]
        #expect(try decide(.requestGuestChange(.createUsers([local])), given: Self.active) == [.guestChangeRequested(.createUsers([local]))])
        #expect(state(both).users == [.init(name: "app", host: "%"), .init(name: "app", host: "localhost")])
        #expect(throws: Rejection.invalidInput("User app@localhost already exists on Instance inst-1")) {
            try decide(.requestGuestChange(.createUsers([local])), given: both)
        }
        #expect(throws: Rejection.notFound("User app@10.% of Instance inst-1 could not be found")) {
            try decide(.requestGuestChange(.deleteUser(name: "app", host: "10.%")), given: both)
        }
        #expect(throws: Rejection.invalidInput("Give each user's host")) {
            try decide(.requestGuestChange(.changePasswords(users: ["app"], hosts: [])), given: both)
        }
        // Recorded before hosts: the name alone finds the user.
        #expect(try decide(.requestGuestChange(.changePasswords(users: ["app"])), given: both).count == 1)
        let moved = both + [.guestChangeApplied(.renameUser(name: "app", host: "localhost", newName: "app", newHost: "10.%"))]
        #expect(state(moved).users == [.init(name: "app", host: "%"), .init(name: "app", host: "10.%")])
        #expect(throws: Rejection.invalidInput("User app already exists on Instance inst-1")) {
            try decide(.requestGuestChange(.renameUser(name: "app", host: "10.%", newName: "app", newHost: "%")), given: moved)
        }
        let deleted = moved + [.guestChangeApplied(.deleteUser(name: "app", host: "%"))]
        #expect(state(deleted).users == [.init(name: "app", host: "10.%")])
    }

    @Test("guest health while active; heartbeats elsewhere are ignored")
    func guestHealth() throws {
        #expect(try decide(.reportGuestHealth(.healthy), given: Self.active) == [])
        #expect(try decide(.reportGuestHealth(.crashed), given: Self.active) == [.guestBecameUnhealthy(.init(health: .crashed))])
        let crashed = Self.active + [.guestBecameUnhealthy(.init(health: .crashed))]
        #expect(state(crashed).status == "ACTIVE")
        #expect(state(crashed).operatingStatus == "SHUTDOWN")
        #expect(try decide(.reportGuestHealth(.crashed), given: crashed) == [])
        #expect(try decide(.reportGuestHealth(.healthy), given: crashed) == [.guestBecameHealthy])
        #expect(try decide(.reportGuestHealth(.heartbeatExpired), given: Self.active + [.restartRequested]) == [])
        #expect(throws: Rejection.notAllowedInState("Instance inst-1 is ACTIVE (state active); BackupStarted requires guestHealthy")) {
            try decide(.startBackup(backupId: "bk-1"), given: crashed)
        }
    }

    @Test("a backup shows BACKUP with the guest's health, and blocks other actions")
    func backup() throws {
        #expect(try decide(.startBackup(backupId: "bk-1"), given: Self.active) == [.backupStarted(.init(backupId: "bk-1"))])
        let backingUp = Self.active + [.backupStarted(.init(backupId: "bk-1"))]
        #expect(state(backingUp).status == "BACKUP")
        #expect(state(backingUp).operatingStatus == "HEALTHY")
        #expect(throws: Rejection.self) { try decide(.restart, given: backingUp) }
        #expect(throws: Rejection.notAllowedInState("Instance inst-1 is running backup bk-1, not bk-9")) {
            try decide(.finishBackup(backupId: "bk-9", succeeded: true), given: backingUp)
        }
        #expect(state(backingUp + [.backupFinished(.init(backupId: "bk-1", succeeded: false))]).status == "ACTIVE")
    }

    @Test("a failure in prepare: ERROR with a fault, then retry or reset")
    func failureInPrepare() throws {
        let preparing = Array(Self.active.prefix(3))
        #expect(
            try decide(.recordFailure(reason: "prepare timed out"), given: preparing)
                == [.instanceFailed(Failure(reason: "prepare timed out", at: Clock.t1))])
        let failed = preparing + [.instanceFailed(Failure(reason: "prepare timed out", at: Clock.t1))]
        #expect(state(failed).status == "ERROR")
        #expect(state(failed).fault == Instance.Fault(reason: "prepare timed out", at: Clock.t1, statusBefore: "BUILD"))
        #expect(try decide(.retryBuild, given: failed) == [.buildRetryRequested])
        #expect(state(failed + [.buildRetryRequested]).phase == .allocating)
        #expect(state(failed + [.buildRetryRequested]).fault == nil)
        #expect(try decide(.resetStatus, given: failed) == [.statusReset])
        let reset = state(failed + [.statusReset])
        #expect(reset.status == "ACTIVE")
        #expect(reset.operatingStatus == "ERROR")  // Trove: service UNKNOWN until the next heartbeat
    }

    @Test("a failed restart cannot be retried as a build")
    func failedRestart() {
        let failed = Self.active + [.restartRequested, .instanceFailed(Failure(reason: "no start", at: Clock.t1))]
        #expect(
            throws: Rejection.notAllowedInState(
                "Instance inst-1 is ERROR (state error); BuildRetryRequested requires failedWhileBuilding"
            )
        ) { try decide(.retryBuild, given: failed) }
    }

    @Test("replicas: promote, eject and detach need a replica")
    func replicas() throws {
        let replica =
            [Instance.Event.instanceCreateRequested(Samples.instanceSpec(id: "inst-2", replicaOf: "inst-1"))]
            + Self.active.dropFirst()
        #expect(try decide(.promoteToReplicaSource, given: replica) == [.replicaPromotionRequested])
        #expect(state(replica + [.replicaPromotionRequested]).status == "PROMOTE")
        #expect(state(replica + [.replicaPromotionRequested, .replicaPromoted]).replicaOf == nil)
        #expect(state(replica + [.replicaSourceEjectionRequested]).status == "EJECT")
        #expect(state(replica + [.replicaDetachRequested]).status == "DETACH")
        #expect(
            throws: Rejection.notAllowedInState(
                "Instance inst-1 is ACTIVE (state active); ReplicaPromotionRequested requires isReplica"
            )
        ) { try decide(.promoteToReplicaSource, given: Self.active) }
    }

    @Test("delete: SHUTDOWN while deleting, then gone")
    func delete() throws {
        // A build with nothing allocated is gone at once; one with a server waits for the clean-up.
        #expect(try decide(.delete, given: Self.created) == [.deleteRequested, .instanceDeleted])
        #expect(
            try decide(.delete, given: Self.created + [.computeAllocated(Instance.ComputeAllocation(serverId: "srv-1", address: "127.0.3.7"))])
                == [.deleteRequested])
        #expect(try decide(.delete, given: Self.active) == [.deleteRequested])
        #expect(state(Self.active + [.deleteRequested]).status == "SHUTDOWN")
        #expect(try decide(.recordDeleted, given: Self.active + [.deleteRequested]) == [.instanceDeleted])
        let deleted = Self.active + [.deleteRequested, .instanceDeleted]
        #expect(state(deleted).phase == .deleted)
        #expect(throws: Rejection.notFound("Instance inst-1 could not be found")) { try decide(.restart, given: deleted) }
        #expect(throws: Rejection.notFound("Instance could not be found")) { try decide(.restart, given: []) }
    }

    @Test("evolve is total: an event the chart refuses is recorded and the leaf kept")
    func evolveIsTotal() {
        let odd = state([.instanceRestarted])
        #expect(odd.phase == .new)
        #expect(odd.version == 1)
        #expect(odd.unacceptedEvents == ["InstanceRestarted"])
        let afterDelete = state(Self.active + [.deleteRequested, .instanceDeleted, .restartRequested])
        #expect(afterDelete.phase == .deleted)
        #expect(afterDelete.unacceptedEvents == ["RestartRequested"])
    }

    @Test("no password reaches an event, its encoding or a description")
    func passwordsStayOut() throws {
        let events = try Instance.decide(.create(Self.request), given: [], chart: chart, at: Clock.t0)
        let secret = "hunter2-do-not-log"
        for event in events {
            let data = String(decoding: try event.encodedData(), as: UTF8.self)
            #expect(!data.contains(secret))
            #expect(data.contains("\"passwordSet\":true"))
            #expect(!String(decoding: try EventJSON.encoder().encode(event), as: UTF8.self).contains(secret))
        }
        var dumped = ""
        dump(Instance.Command.create(Self.request), to: &dumped)
        #expect(!dumped.contains(secret))
        #expect(!String(describing: Instance.Command.create(Self.request)).contains(secret))
        #expect(!String(describing: state(events)).contains(secret))
        #expect(Self.request.users[0].password.revealed == secret)
    }
}
