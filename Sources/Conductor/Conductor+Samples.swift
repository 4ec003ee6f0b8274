import Foundation
import GuestProtocol
import Lifecycle
import PostgresNIO

extension Conductor {
    /// How often one figure of one instance is kept (heartbeats may come every second).
    static let sampleSpacing = 4
    /// How long samples are kept.
    static let sampleRetention = 3600

    /// Keeps the figures of a report for the console's plots: the guest's own, and, from a primary, each
    /// standby's replication lag under the standby's id.
    func recordSamples(_ report: GuestReport) async throws {
        var figures: [(instance: String, figure: String, value: Double)] = [
            (report.instanceID, "volume_used_bytes", Double(report.volumeUsedBytes))
        ]
        if let activity = report.activity {
            figures.append((report.instanceID, "connections", Double(activity.connections)))
            figures.append((report.instanceID, "transactions", Double(activity.transactions)))
        }
        if let replication = report.replication, replication.running, replication.role == .primary {
            for (slot, lag) in replication.standbyLagBytes {
                guard let standby = Self.instanceID(ofSlot: slot) else { continue }
                figures.append((standby, "replication_lag_bytes", Double(lag)))
            }
        }
        // One statement for the whole report (a heartbeat may come every second).
        try await client.query(
            """
            INSERT INTO guest_samples (instance_id, figure, value)
            SELECT s.instance_id, s.figure, s.value
            FROM unnest(\(figures.map(\.instance))::text[], \(figures.map(\.figure))::text[], \(figures.map(\.value))::float8[])
                 AS s(instance_id, figure, value)
            WHERE NOT EXISTS (SELECT 1 FROM guest_samples g WHERE g.instance_id = s.instance_id AND g.figure = s.figure
                              AND g.at > now() - make_interval(secs => \(Self.sampleSpacing)))
            """, logger: logger)
    }

    /// Drops samples older than the retention.
    func pruneSamples() async throws {
        try await client.query("DELETE FROM guest_samples WHERE at < now() - make_interval(secs => \(Self.sampleRetention))", logger: logger)
    }

    /// The instance a replication slot serves (`Cluster.replicationSlotName(of:)` read backwards).
    static func instanceID(ofSlot slot: String) -> String? {
        guard slot.hasPrefix("cellar_") else { return nil }
        let id = slot.dropFirst("cellar_".count).replacingOccurrences(of: "_", with: "-")
        return Cluster.replicationSlotName(of: id) == slot ? id : nil
    }
}
