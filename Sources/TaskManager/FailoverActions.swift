import Compute
import Foundation
import GuestProtocol
import Lifecycle
import ReadModels

/// The failover's two actions that are more than a call: fencing a lost primary (its guest, else the power) and
/// electing its successor from the members' live reports.
struct FailoverActions: Sendable {
    let context: SagaContext

    var services: TaskManagerServices { context.services }

    /// The lost primary can no longer take writes: its guest stops the server and keeps it stopped (and its
    /// balancer check says so); a guest that does not answer within two seconds has its server powered off.
    func fence(_ instanceID: String) async throws -> String {
        let how: String
        do {
            _ = try await context.callGuest(instanceID, GuestMethod.fence.rawValue, [String: String](), limit: .seconds(2))
            how = "stopped by its guest"
        } catch {
            try await services.compute.powerOff(instanceID: instanceID)
            how = "powered off (its guest did not answer: \(error))"
        }
        services.logger.warning("fenced", metadata: ["instance": "\(instanceID)", "how": "\(how)"])
        return how
    }

    /// Asks every other member for its replication state (two seconds each, all at once), decides with
    /// `Failover.choose` and records the decision; nobody promotable fails the step with every refusal.
    func elect(_ clusterID: String) async throws {
        let cluster = try await context.cluster(clusterID)
        guard let failover = cluster.failover else { return }
        guard failover.electedId == nil else { return }  // decided before a crash: that answer stands
        let lost = failover.lostPrimaryId
        let lastPrimaryReport = try await lastReplicationReport(of: lost)
        let candidates = cluster.members.filter { $0.id != lost && !cluster.fencedMemberIds.contains($0.id) }
        let reports = await withTaskGroup(of: Failover.MemberReport.self) { group in
            for member in candidates {
                group.addTask { await report(of: member, primaryReport: lastPrimaryReport) }
            }
            var reports: [Failover.MemberReport] = []
            for await report in group { reports.append(report) }
            return reports
        }
        let policy = Failover.Policy(maximumLagBytes: FailoverSettings.maximumLagBytes, synchronous: cluster.synchronous)
        switch Failover.choose(reports, primaryLSN: lastPrimaryReport?.receivedLSN, policy: policy) {
        case .promote(let winner):
            let refusals = Failover.assess(reports, primaryLSN: lastPrimaryReport?.receivedLSN, policy: policy).refusals
            try await context.record(.recordElected(memberId: winner, refusals: refusals.map(\.description)), onCluster: clusterID)
        case .nobody(let refusals):
            throw PermanentFailure("no replica can be promoted: " + refusals.map(\.description).joined(separator: "; "))
        }
    }

    /// A member's report, asked live; a member that does not answer is unhealthy.
    private func report(of member: Cluster.Member, primaryReport: ReplicationStatus?) async -> Failover.MemberReport {
        let slot = ReplicationSettings.slotName(of: member.id)
        let confirmed = primaryReport?.synchronousStandbys.contains(slot) ?? false
        do {
            let answer = try await context.callGuest(member.id, GuestMethod.replicationStatus.rawValue, [String: String](), limit: .seconds(2))
            let status = try answer.decode(as: ReplicationStatus.self)
            return Failover.MemberReport(
                id: member.id, role: status.role == .primary ? .primary : .replica, healthy: status.running && !status.fenced,
                timeline: status.timeline, receivedLSN: status.receivedLSN, replayedLSN: status.replayedLSN,
                weight: member.promotionWeight, confirmedSynchronous: confirmed)
        } catch {
            return Failover.MemberReport(
                id: member.id, role: .replica, healthy: false, timeline: 0, receivedLSN: 0, replayedLSN: 0,
                weight: member.promotionWeight, confirmedSynchronous: confirmed)
        }
    }

    /// The lost primary's last heartbeat's replication state (its WAL position and synchronous standbys).
    private func lastReplicationReport(of instanceID: String) async throws -> ReplicationStatus? {
        let rows = try await services.client.query(
            "SELECT replication::text FROM guest_heartbeats WHERE instance_id = \(instanceID) AND replication IS NOT NULL",
            logger: services.logger)
        for try await text in rows.decode(String.self) {
            return try? JSONDecoder().decode(ReplicationStatus.self, from: Data(text.utf8))
        }
        return nil
    }
}

/// Failover thresholds (the monitor's are in `FailoverMonitor.Settings`).
enum FailoverSettings {
    /// A replica further behind the primary's last known position than this is not promoted (Patroni's
    /// `maximum_lag_on_failover` default: 1 MiB).
    static let maximumLagBytes: UInt64 = 1_048_576
}
