import Compute
import Foundation
import Logging
import PostgresNIO
import ReadModels

/// Cluster figures for `/metrics`, read at scrape time: each member's Galera figures from its last heartbeat,
/// and each cluster balancer's view of its members from HAProxy's stats socket (on this host).
struct ClusterMetrics: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// Heartbeat figure name → metric name and help.
    static let figures: [(figure: String, metric: String, help: String)] = [
        ("wsrep_cluster_size", "cellar_galera_cluster_size", "Members in the member's view of its group."),
        ("wsrep_local_state", "cellar_galera_local_state", "Galera state of the member (4: synced)."),
        ("wsrep_flow_control_paused", "cellar_galera_flow_control_paused", "Fraction of time replication was paused by flow control."),
        ("wsrep_local_recv_queue", "cellar_galera_local_recv_queue", "Write sets waiting to be applied on the member."),
        ("wsrep_local_cert_failures", "cellar_galera_local_cert_failures", "Transactions the member failed to certify, since it started."),
    ]

    func text() async -> String {
        var lines: [String] = []
        do {
            var samples: [String: [String]] = [:]
            let rows = try await client.query(
                """
                SELECT i.cluster_id, h.instance_id, h.cluster_figures::text FROM guest_heartbeats h JOIN instances i ON i.id = h.instance_id
                WHERE i.cluster_id IS NOT NULL AND NOT i.deleted AND h.cluster_figures IS NOT NULL ORDER BY i.cluster_id, h.instance_id
                """, logger: logger)
            for try await (cluster, member, json) in rows.decode((String, String, String).self) {
                let values = (try? JSONDecoder().decode([String: Double].self, from: Data(json.utf8))) ?? [:]
                for figure in Self.figures {
                    guard let value = values[figure.figure] else { continue }
                    samples[figure.metric, default: []].append("\(figure.metric){cluster=\"\(cluster)\",member=\"\(member)\"} \(value)")
                }
            }
            for figure in Self.figures where samples[figure.metric] != nil {
                lines += ["# HELP \(figure.metric) \(figure.help)", "# TYPE \(figure.metric) gauge"] + samples[figure.metric]!
            }
            var up: [String] = []
            var current: [String] = []
            var total: [String] = []
            for cluster in try await ClusterReadModel(client: client, logger: logger).balancedClusterIDs() {
                guard let backends = try? await ProcessComputeDriver.balancerBackends(clusterID: cluster) else { continue }
                for backend in backends {
                    let labels = "{cluster=\"\(cluster)\",member=\"\(backend.id)\"}"
                    up.append("cellar_balancer_backend_up\(labels) \(backend.status.hasPrefix("UP") ? 1 : 0)")
                    current.append("cellar_balancer_backend_current_sessions\(labels) \(backend.currentSessions)")
                    total.append("cellar_balancer_backend_sessions_total\(labels) \(backend.totalSessions)")
                }
            }
            if !up.isEmpty {
                lines +=
                    [
                        "# HELP cellar_balancer_backend_up Whether the cluster's balancer sends new connections to the member.",
                        "# TYPE cellar_balancer_backend_up gauge",
                    ] + up
                lines +=
                    [
                        "# HELP cellar_balancer_backend_current_sessions Connections open through the balancer to the member.",
                        "# TYPE cellar_balancer_backend_current_sessions gauge",
                    ] + current
                lines +=
                    [
                        "# HELP cellar_balancer_backend_sessions_total Connections the balancer sent to the member.",
                        "# TYPE cellar_balancer_backend_sessions_total counter",
                    ] + total
            }
        } catch {
            logger.warning("cluster metrics unavailable", metadata: ["error": "\(error)"])
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }
}
