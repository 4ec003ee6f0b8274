import NIOCore
import NIOPosix

/// Checks that an AMQP 0-9-1 broker answers: sends the protocol header and expects `Connection.Start`.
///
/// A TCP connect alone would also succeed against a half-started node; the broker only sends `Connection.Start`
/// once it accepts clients.
public struct AMQPProbe: Sendable {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads host and port from an `amqp://user:pass@host:port/vhost` URL.
    public init?(url: String) {
        guard let components = URLParts(url), components.scheme == "amqp" || components.scheme == "amqps" else { return nil }
        self.init(host: components.host, port: components.port ?? 5672)
    }

    /// Nil when the broker answered with `Connection.Start`; otherwise why not.
    public func check(timeout: TimeAmount = .seconds(2)) async -> String? {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            return try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    try await channel.executeThenClose { inbound, outbound in
                        try await outbound.write(ByteBuffer(bytes: Array("AMQP".utf8) + [0, 0, 9, 1]))
                        var received = ByteBuffer()
                        for try await chunk in inbound {
                            received.writeImmutableBuffer(chunk)
                            if received.readableBytes >= 11 { break }
                        }
                        // Frame: type 1 (method), channel 0, size, then class 10 / method 10 = Connection.Start.
                        let bytes = received.readBytes(length: min(11, received.readableBytes)) ?? []
                        guard bytes.count == 11, bytes[0] == 1, bytes[7...10] == [0, 10, 0, 10] else {
                            return "broker did not send Connection.Start"
                        }
                        return nil
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
                    return "no AMQP answer within \(timeout.nanoseconds / 1_000_000) ms"
                }
                let first = try await group.next() ?? "no answer"
                group.cancelAll()
                return first
            }
        } catch {
            return "\(error)"
        }
    }
}
