import Bus
import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import Testing

@Suite("RPC to guest queues", .tags(.rabbitMQ))
struct RPCTests {
    @Test("a call returns the remote result; a remote failure comes back typed; a cast is delivered")
    func callsAndCasts() async throws {
        let url = try await TestServers.amqpURL()
        let guest = "guest.test-\(UUID().uuidString.prefix(8))"
        let publisher = try BusPublisher(url: url, role: controlPlane)
        defer { publisher.shutdown() }
        let casts = Locked<[String]>([])
        let server = RPCServer(url: url, queue: guest, publisher: publisher, role: controlPlane)
        let client = RPCClient(url: url, publisher: publisher)
        try await publisher.declare(RPCServer.queueSpec(guest), bindings: [Binding(exchange: Topology.rpcExchange, routingKey: guest)])
        let serving = Task {
            try await server.run { request in
                switch request.method {
                case "echo": return request.args
                case "note":
                    casts.withLock { $0.append(request.messageID) }
                    return .null
                default: throw RemoteFailure(type: "UnknownMethod", message: "no method \(request.method)")
                }
            }
        }
        let replies = Task { try await client.run() }
        defer {
            serving.cancel()
            replies.cancel()
        }

        let args = JSONValue.object(["name": .string("orders"), "encoding": .string("UTF8")])
        #expect(try await client.call(guest, method: "echo", args: args, timeout: .seconds(20)) == args)
        await #expect(throws: RemoteFailure(type: "UnknownMethod", message: "no method resize")) {
            try await client.call(guest, method: "resize", timeout: .seconds(20))
        }
        try await client.cast(guest, method: "note")
        let deadline = ContinuousClock.now + .seconds(20)
        while casts.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(casts.withLock { $0.count } == 1)
        try await publisher.deleteQueue(guest)
    }

    @Test("a call nobody answers ends in a typed timeout, on time")
    func timeout() async throws {
        let url = try await TestServers.amqpURL()
        let publisher = try BusPublisher(url: url, role: controlPlane)
        defer { publisher.shutdown() }
        let client = RPCClient(url: url, publisher: publisher)
        let replies = Task { try await client.run() }
        defer { replies.cancel() }
        let started = ContinuousClock.now
        await #expect(throws: RPCTimeout.self) {
            try await client.call("guest.nobody-\(UUID().uuidString.prefix(8))", method: "get_status", timeout: .seconds(1))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}
