import APICore
import Foundation
import Hummingbird
import ReadModels

/// `GET /instances/{id}/metrics?minutes=N`: the figures the instance's guest reported over the last N minutes
/// (at most 60): client sessions, transactions per second, data size and (standbys) replication lag.
extension TroveAPI {
    func registerMetricRoutes(on routes: RouterGroup<CellarRequestContext>) {
        let samples = GuestSampleReads(client: client, logger: logger)
        routes.get("instances/:id/metrics") { request, context in
            let caller = try context.caller()
            let id = try context.parameters.require("id")
            var minutes = 60
            if let text = request.uri.queryParameters.get("minutes") {
                guard let value = Int(text), (1...60).contains(value) else {
                    throw TroveError.badRequest("'minutes' must be a whole number from 1 to 60, not '\(text)'.")
                }
                minutes = value
            }
            guard try await reads.instance(id, project: caller.isAdmin ? nil : caller.projectID) != nil else {
                throw TroveError.notFound("Instance \(id) could not be found.")
            }
            let series = try await samples.series(of: id, minutes: minutes)
            return try JSONResponse.make(MetricsEnvelope(metrics: MetricsView(instanceID: id, samples: series.points.map(SampleView.init))))
        }
    }
}

struct SampleView: Encodable {
    var time: String
    var connections: Int?
    var transactionsPerSecond: Double?
    var volumeUsedBytes: Int64?
    var replicationLagBytes: Int64?

    enum CodingKeys: String, CodingKey {
        case time, connections
        case transactionsPerSecond = "transactions_per_second"
        case volumeUsedBytes = "volume_used_bytes"
        case replicationLagBytes = "replication_lag_bytes"
    }

    init(_ point: GuestSeries.Point) {
        time = point.time.formatted(.iso8601)
        connections = point.connections
        transactionsPerSecond = point.transactionsPerSecond.map { ($0 * 100).rounded() / 100 }
        volumeUsedBytes = point.volumeUsedBytes
        replicationLagBytes = point.replicationLagBytes
    }

    /// Absent figures are written as null, so every sample has the same keys.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(time, forKey: .time)
        try container.encode(connections, forKey: .connections)
        try container.encode(transactionsPerSecond, forKey: .transactionsPerSecond)
        try container.encode(volumeUsedBytes, forKey: .volumeUsedBytes)
        try container.encode(replicationLagBytes, forKey: .replicationLagBytes)
    }
}

struct MetricsView: Encodable {
    var instanceID: String
    var samples: [SampleView]
    enum CodingKeys: String, CodingKey {
        case samples
        case instanceID = "instance_id"
    }
}

struct MetricsEnvelope: Encodable { var metrics: MetricsView }
