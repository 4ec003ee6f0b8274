import Foundation
import Logging
import PostgresNIO

/// An instance's figures over time, as the console plots them: one point per `spacing`, with the transaction
/// counter turned into a rate.
public struct GuestSeries: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var time: Date
        public var connections: Int?
        public var transactionsPerSecond: Double?
        public var volumeUsedBytes: Int64?
        public var replicationLagBytes: Int64?
    }

    public var points: [Point]

    /// Folds raw samples (time, figure, value), in any order, into points `spacing` seconds apart. A rate needs
    /// two counter readings; a counter that went down (the server restarted) starts over without a rate.
    public init(samples: [(at: Date, figure: String, value: Double)], spacing: TimeInterval = 5) {
        var byBucket: [Int64: Point] = [:]
        var counters: [(at: Date, value: Double)] = []
        for sample in samples {
            let bucket = Int64((sample.at.timeIntervalSince1970 / spacing).rounded(.down))
            var point = byBucket[bucket] ?? Point(time: Date(timeIntervalSince1970: Double(bucket) * spacing))
            switch sample.figure {
            case "connections": point.connections = Int(sample.value)
            case "volume_used_bytes": point.volumeUsedBytes = Int64(sample.value)
            case "replication_lag_bytes": point.replicationLagBytes = Int64(sample.value)
            case "transactions": counters.append((sample.at, sample.value))
            default: break
            }
            byBucket[bucket] = point
        }
        counters.sort { $0.at < $1.at }
        for (previous, next) in zip(counters, counters.dropFirst()) where next.value >= previous.value {
            let seconds = next.at.timeIntervalSince(previous.at)
            guard seconds > 0 else { continue }
            let bucket = Int64((next.at.timeIntervalSince1970 / spacing).rounded(.down))
            byBucket[bucket]?.transactionsPerSecond = (next.value - previous.value) / seconds
        }
        points = byBucket.keys.sorted().compactMap { byBucket[$0] }
    }
}

extension GuestSeries.Point {
    init(time: Date) { self.time = time }
}

/// Reads the samples the conductor keeps (`guest_samples`).
public struct GuestSampleReads: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The last `minutes` of `instanceID`'s figures.
    public func series(of instanceID: String, minutes: Int) async throws -> GuestSeries {
        let rows = try await client.query(
            """
            SELECT at, figure, value FROM guest_samples
            WHERE instance_id = \(instanceID) AND at > now() - \(minutes) * interval '1 minute' ORDER BY at
            """, logger: logger)
        var samples: [(at: Date, figure: String, value: Double)] = []
        for try await (at, figure, value) in rows.decode((Date, String, Double).self) { samples.append((at, figure, value)) }
        return GuestSeries(samples: samples)
    }
}
