import ArgumentParser
import Bus
import CellarCLI
import Foundation

/// `cellar bench bus`: confirmed publishes/s, one by one and batched, next to a plain publish loop without
/// confirms on the same broker in the same run.
struct BusBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus",
        abstract: "Confirmed publishes/s (one by one, batched) next to unconfirmed publishing, as ratios."
    )

    @OptionGroup var broker: BrokerOptions
    @Option(help: "Messages per batched scenario.") var messages = 20_000
    @Option(help: "Messages for the one-by-one scenario (slow: one round trip each).") var single = 2_000

    func run() async throws {
        let url = try broker.resolvedURL()
        let queue = "bench.bus.\(getpid())"
        let confirmed = try BusPublisher(url: url, role: .controlPlane(sagaTriggers: []))
        let unconfirmed = try BusPublisher(url: url, confirms: false, role: .controlPlane(sagaTriggers: []))
        defer {
            confirmed.shutdown()
            unconfirmed.shutdown()
        }
        // A durable quorum queue and persistent 256-byte messages, as Cellar's own work queues carry.
        try await confirmed.declare(.workQueue(queue))
        let body = Data(String(repeating: "x", count: 240).utf8)
        let make: @Sendable (Int) -> OutgoingMessage = { index in
            OutgoingMessage(exchange: "", routingKey: queue, body: body, messageID: "bench-\(index)")
        }

        var rows: [(String, Int, Double)] = []
        rows.append(
            (
                "no confirms (baseline), batches of 1000", messages,
                try await measure(messages) { start, count in
                    try await unconfirmed.publish((start..<start + count).map(make))
                }
            ))
        rows.append(
            (
                "confirm each message", single,
                try await measure(single, batch: 1) { start, _ in
                    try await confirmed.publish(make(start))
                }
            ))
        for batch in [100, 1000] {
            rows.append(
                (
                    "confirm batches of \(batch)", messages,
                    try await measure(messages, batch: batch) { start, count in
                        try await confirmed.publish((start..<start + count).map(make))
                    }
                ))
        }
        try await confirmed.deleteQueue(queue)

        let baseline = Double(rows[0].1) / rows[0].2
        print("cellar bench bus: persistent 256-byte messages to a durable quorum queue")
        print(
            TextTable.render(
                header: ["SCENARIO", "MESSAGES", "SECONDS", "MSG/S", "VS NO CONFIRMS"],
                rows: rows.map { name, count, seconds in
                    let rate = Double(count) / seconds
                    return [
                        name, "\(count)", String(format: "%.2f", seconds), String(format: "%.0f", rate),
                        name.contains("baseline") ? "baseline" : String(format: "%.2f×", rate / baseline),
                    ]
                }
            ))
    }

    /// Seconds to send `total` messages in calls of `batch`.
    private func measure(_ total: Int, batch: Int = 1000, _ send: (_ start: Int, _ count: Int) async throws -> Void) async throws -> Double {
        let clock = ContinuousClock()
        let started = clock.now
        var sent = 0
        while sent < total {
            let count = min(batch, total - sent)
            try await send(sent, count)
            sent += count
        }
        let elapsed = clock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
