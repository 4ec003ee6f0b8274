import Lifecycle
import Testing

/// The pure interpreter: lookup order, guards, statuses, and the Trove statuses each chart shows.
@Suite("Statechart interpreter")
struct StatechartInterpreterTests {
    @Test("inner transitions win over outer ones; document order within a state; guards pick")
    func lookupOrder() throws {
        let chart = try Statechart(
            scxml: StatechartLoaderTests.document(
                """
                <state id="outer" cellar:status="UP">
                  <transition event="Go" target="b"/>
                  <transition event="Stop" target="done"/>
                  <state id="a">
                    <transition event="Go" cond="fast" target="c"/>
                    <transition event="Go" cond="slow" target="b"/>
                  </state>
                  <state id="b"/>
                  <state id="c"/>
                </state>
                <final id="done"/>
                """), source: "lookup")
        #expect(chart.fire(event: "Go", in: "a", guards: { $0 == "fast" }) == .success("c"))
        #expect(chart.fire(event: "Go", in: "a", guards: { _ in true }) == .success("c"))
        #expect(chart.fire(event: "Go", in: "a", guards: { $0 == "slow" }) == .success("b"))
        #expect(chart.fire(event: "Go", in: "a", guards: { _ in false }) == .success("b"))  // falls to outer
        #expect(chart.transition(for: "Go", in: "a", guards: { _ in false })?.source == "outer")
        #expect(chart.fire(event: "Stop", in: "c", guards: { _ in false }) == .success("done"))
        #expect(chart.acceptedEvents(in: "a") == ["Go", "Stop"])
        #expect(chart.acceptedEvents(in: "done").isEmpty)
        #expect(chart.isFinal("done") && !chart.isFinal("a"))
        #expect(chart.lineage(of: "c") == ["c", "outer"])
        #expect(chart.leafIDs == ["a", "b", "c", "done"])
        #expect(chart.guardNames == ["fast", "slow"])
    }

    @Test("rejections say where the event is allowed, or which guard failed")
    func rejectionWording() throws {
        let chart = try Charts.instance
        guard case .failure(let refusal) = chart.fire(event: "BackupStarted", in: "active", guards: { _ in false })
        else {
            Issue.record("BackupStarted fired without guestHealthy")
            return
        }
        #expect(refusal.reason == .guardFailed(["guestHealthy"]))
        #expect(refusal.description == "Instance is ACTIVE (state active); BackupStarted requires guestHealthy")
        #expect(refusal.about("Instance i-1").description.hasPrefix("Instance i-1 is ACTIVE"))
        guard case .failure(let unknown) = chart.fire(event: "Restart", in: "nowhere", guards: { _ in true })
        else {
            Issue.record("fired in an unknown state")
            return
        }
        #expect(unknown.reason == .unknownState)
    }

    /// What a troveclient user sees in each state (reference/trove-api.md section 3).
    @Test("every leaf shows the Trove status of section 3")
    func troveStatuses() throws {
        let instance = try Charts.instance
        let expectedInstance: [String: String?] = [
            "new": "BUILD", "allocating": "BUILD", "registering": "BUILD", "preparing": "BUILD",
            "rebooting": "REBOOT", "resizingFlavor": "RESIZE", "resizingVolume": "RESIZE", "upgrading": "UPGRADE",
            "promoting": "PROMOTE", "ejecting": "EJECT", "detaching": "DETACH", "deleting": "SHUTDOWN",
            "active": "ACTIVE", "configuring": "ACTIVE", "restartRequired": "RESTART_REQUIRED", "backingUp": "BACKUP",
            "shutdown": "SHUTDOWN", "error": "ERROR", "deleted": nil,
        ]
        #expect(Dictionary(uniqueKeysWithValues: instance.leafIDs.map { ($0, instance.status(of: $0)) }) == expectedInstance)
        let backup = try Charts.backup
        let expectedBackup: [String: String?] = [
            "new": "NEW", "queued": "NEW", "building": "BUILDING", "saving": "SAVING", "completed": "COMPLETED",
            "failed": "FAILED", "restored": "RESTORED", "deleteFailed": "DELETE_FAILED", "deleting": nil,
            "deleted": nil,
        ]
        #expect(Dictionary(uniqueKeysWithValues: backup.leafIDs.map { ($0, backup.status(of: $0)) }) == expectedBackup)
        let cluster = try Charts.cluster
        let expectedCluster: [String: String?] = [
            "new": "BUILDING", "building": "BUILDING", "growing": "GROWING_CLUSTER", "shrinking": "SHRINKING_CLUSTER",
            "restarting": "RESTARTING_CLUSTER", "upgrading": "UPGRADING_CLUSTER", "updating": "UPDATING_CLUSTER",
            "deleting": "DELETING", "active": "NONE", "error": "NONE", "deleted": nil,
            "failing_over": "FAILING_OVER", "rejoining": "UPDATING_CLUSTER",
        ]
        #expect(Dictionary(uniqueKeysWithValues: cluster.leafIDs.map { ($0, cluster.status(of: $0)) }) == expectedCluster)
        for leaf in cluster.leafIDs {
            if let status = cluster.status(of: leaf) { #expect(Cluster.Task.named(status) != nil) }
        }
    }
}

/// Illegal transitions per chart, with the message users get.
@Suite("Illegal transitions")
struct IllegalTransitionTests {
    func refusal(_ chart: Statechart, _ event: String, in leaf: String, guards: Bool = true) -> String? {
        guard case .failure(let rejection) = chart.fire(event: event, in: leaf, guards: { _ in guards }) else {
            return nil
        }
        return rejection.description
    }

    @Test(
        "instance",
        arguments: [
            (
                "RestartRequested", "preparing",
                "Instance is BUILD (state preparing); RestartRequested is allowed only in ACTIVE or RESTART_REQUIRED"
            ),
            (
                "FlavorResizeRequested", "error",
                "Instance is ERROR (state error); FlavorResizeRequested is allowed only in ACTIVE or RESTART_REQUIRED"
            ),
            (
                "VolumeResizeRequested", "backingUp",
                "Instance is BACKUP (state backingUp); VolumeResizeRequested is allowed only in ACTIVE or RESTART_REQUIRED"
            ),
            (
                "DeleteRequested", "rebooting",
                "Instance is REBOOT (state rebooting); DeleteRequested is allowed only in BUILD (state allocating, registering, "
                    + "preparing), ACTIVE, RESTART_REQUIRED, SHUTDOWN (state shutdown) or ERROR"
            ),
            (
                "InstanceBecameActive", "registering",
                "Instance is BUILD (state registering); InstanceBecameActive is allowed only in BUILD (state preparing)"
            ),
            (
                "RestartRequested", "deleted",
                "Instance is in final state deleted; RestartRequested is allowed only in ACTIVE or RESTART_REQUIRED"
            ),
            (
                "InstanceCreateRequested", "active",
                "Instance is ACTIVE (state active); InstanceCreateRequested is allowed only in BUILD (state new)"
            ),
            (
                "GuestPrepared", "preparing",
                "Instance is BUILD (state preparing); GuestPrepared is not an event of the instance chart: no state accepts it"
            ),
        ])
    func instance(event: String, leaf: String, message: String) throws {
        #expect(refusal(try Charts.instance, event, in: leaf) == message)
    }

    @Test("instance guards")
    func instanceGuards() throws {
        let chart = try Charts.instance
        #expect(
            refusal(chart, "ReplicaPromotionRequested", in: "active", guards: false)
                == "Instance is ACTIVE (state active); ReplicaPromotionRequested requires isReplica")
        #expect(
            refusal(chart, "BuildRetryRequested", in: "error", guards: false)
                == "Instance is ERROR (state error); BuildRetryRequested requires failedWhileBuilding")
        #expect(
            refusal(chart, "StatusReset", in: "error", guards: false)
                == "Instance is ERROR (state error); StatusReset requires guestRegistered")
    }

    @Test("every event is refused after deleted", arguments: StatechartLibrary.chartNames)
    func nothingAfterDeleted(name: String) throws {
        let chart = try #require(try Charts.library[name])
        for event in chart.events {
            #expect(
                refusal(chart, event, in: "deleted")?.hasPrefix(
                    "\(name.prefix(1).uppercased())\(name.dropFirst()) is in final state deleted; \(event) is allowed only in ") == true)
        }
    }

    @Test(
        "backup",
        arguments: [
            (
                "BackupDeleteRequested", "building",
                "Backup is BUILDING (state building); BackupDeleteRequested is allowed only in COMPLETED, FAILED, "
                    + "RESTORED or DELETE_FAILED"
            ),
            (
                "BackupCompleted", "queued",
                "Backup is NEW (state queued); BackupCompleted is allowed only in BUILDING or SAVING"
            ),
            (
                "BackupSaveStarted", "completed",
                "Backup is COMPLETED (state completed); BackupSaveStarted is allowed only in BUILDING"
            ),
            (
                "BackupDeleted", "completed",
                "Backup is COMPLETED (state completed); BackupDeleted is allowed only in state deleting"
            ),
        ])
    func backup(event: String, leaf: String, message: String) throws {
        #expect(refusal(try Charts.backup, event, in: leaf) == message)
    }

    @Test(
        "cluster",
        arguments: [
            (
                "ClusterGrowRequested", "building",
                "Cluster is BUILDING (state building); ClusterGrowRequested is allowed only in NONE (state active)"
            ),
            (
                "ClusterShrinkRequested", "deleting",
                "Cluster is DELETING (state deleting); ClusterShrinkRequested is allowed only in NONE (state active)"
            ),
            (
                "ClusterRestartRequested", "error",
                "Cluster is NONE (state error); ClusterRestartRequested is allowed only in NONE (state active)"
            ),
        ])
    func cluster(event: String, leaf: String, message: String) throws {
        #expect(refusal(try Charts.cluster, event, in: leaf) == message)
    }

    @Test("a shrink that would empty the cluster fails its guard")
    func clusterShrinkGuard() throws {
        #expect(
            refusal(try Charts.cluster, "ClusterShrinkRequested", in: "active", guards: false)
                == "Cluster is NONE (state active); ClusterShrinkRequested requires keepsAMember")
    }
}
