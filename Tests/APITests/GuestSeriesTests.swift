import Foundation
import ReadModels
import Testing

/// How raw guest samples become the console's points: slots of 5 s, a rate from two counter readings.
@Suite("guest figures as a series")
struct GuestSeriesTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("figures of one slot share a point; the transaction counter becomes a rate; a restart's reset gives no rate")
    func series() {
        let samples: [(at: Date, figure: String, value: Double)] = [
            (start.addingTimeInterval(9), "transactions", 100),  // out of order on purpose
            (start, "connections", 3), (start.addingTimeInterval(1), "volume_used_bytes", 42_000_000),
            (start, "transactions", 80),
            (start.addingTimeInterval(14), "transactions", 5),  // the server restarted: the counter began again
            (start.addingTimeInterval(19), "transactions", 25),
            (start.addingTimeInterval(6), "replication_lag_bytes", 512),
        ]
        let points = GuestSeries(samples: samples).points
        #expect(points.map(\.time) == [0, 5, 10, 15].map { start.addingTimeInterval($0) })
        #expect(points[0].connections == 3 && points[0].volumeUsedBytes == 42_000_000 && points[0].transactionsPerSecond == nil)
        #expect(points[1].transactionsPerSecond == 20.0 / 9 && points[1].replicationLagBytes == 512)
        #expect(points[2].transactionsPerSecond == nil, "a counter that went down is no rate")
        #expect(points[3].transactionsPerSecond == 4)
    }

    @Test("no samples, no points")
    func empty() {
        #expect(GuestSeries(samples: []).points.isEmpty)
    }
}
