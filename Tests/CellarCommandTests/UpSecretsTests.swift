import Bus
import CellarTestSupport
import EventStore
import Foundation
import GuestProtocol
import Lifecycle
import LocalServers
import PostgresNIO
import Secrets
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Passwords given to Cellar are never at rest in clear outside the instance's own data, and the broker has no
/// well-known user.
@Suite("secrets at rest under cellar up", .serialized)
struct UpSecretsTests {
    @Test(
        "users, root and a build failed in prepare: no password in any file of the state folder but the instance's data; the failed guest's queue is gone"
    )
    func noPasswordAtRest() async throws {
        try await UpStack.with(name: "secrets", addressPool: "127.47") { state, up, admin in try await Self.checkNoPasswordAtRest(state, up, admin) }
    }

    static func checkNoPasswordAtRest(_ state: StateDirectory, _ up: CellarProcess, _ admin: TroveSession) async throws {
        let marker = UUID().uuidString.prefix(8)
        var passwords = ["create": "create-pass-\(marker)", "user": "user-pass-\(marker)", "failed": "failed-pass-\(marker)"]

        let id = try await admin.createInstance(name: "kept", password: passwords["create"]!)
        try await admin.waitFor(id, status: "ACTIVE", operating: "HEALTHY")
        let root = try await admin.trove("POST", "/instances/\(id)/root")
        #expect(root.status == 200, "\(root.json)")
        passwords["root"] = try #require((root.json["user"] as? [String: Any])?["password"] as? String)
        let user = try await admin.trove(
            "POST", "/instances/\(id)/users",
            [
                "users": [
                    ["name": "ledger", "password": passwords["user"]!, "databases": [["name": "orders"]]]
                ]
            ])
        #expect(user.status == 202, "\(user.json)")

        let failed = try await createFailingInPrepare(state: state, projectID: admin.projectID, password: passwords["failed"]!)
        try await admin.waitFor(failed, status: "ERROR", timeout: .seconds(120))

        let stack = try LocalStack(stateDirectory: state)
        let users = try stack.rabbitMQ.users()
        #expect(!users.contains("guest") && users.contains("cellar"), "the broker has its own user, no guest: \(users)")
        #expect(!users.contains("guest-\(failed)"), "the failed instance's broker user is removed")
        #expect(try !stack.rabbitMQ.queues().contains { $0.name == "guest.\(failed)" }, "the failed instance's queue is deleted")
        let ownData = state.url.appendingPathComponent("instances/\(id)/data").path
        var found: [String] = []
        for file in files(under: state.url) + [up.output] where !file.path.hasPrefix(ownData + "/") {
            guard let contents = FileManager.default.contents(atPath: file.path) else { continue }
            for (which, password) in passwords where contents.range(of: Data(password.utf8)) != nil {
                found.append("\(which) password in \(file.path)")
            }
        }
        #expect(found.isEmpty, "\(found)")
    }

    @Test("a guest logs in to the broker as itself: it reaches its own queue, never another guest's or the control plane's")
    func guestBrokerUsers() async throws {
        try await UpStack.with(name: "broker", addressPool: "127.49") { state, up, admin in
            try await Self.checkGuestBrokerUsers(state, admin)
            try await Self.checkOperatorSurfaces(port: up.port, admin: admin)
        }
    }

    /// A client's `Host` header never becomes a link's or the catalog's base, and `/metrics` is an operator's.
    static func checkOperatorSurfaces(port: Int, admin: TroveSession) async throws {
        let base = "http://127.0.0.1:\(port)"
        var list = URLRequest(url: URL(string: "\(base)/v1.0/\(admin.projectID)/instances?limit=1")!)
        list.setValue(admin.token, forHTTPHeaderField: "X-Auth-Token")
        list.setValue("attacker.example:8443", forHTTPHeaderField: "Host")
        let (listed, _) = try await URLSession.shared.data(for: list)
        let text = String(decoding: listed, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
        #expect(!text.contains("attacker.example") && text.contains(base), "\(text.prefix(600))")

        var token = URLRequest(url: URL(string: "\(base)/v3/auth/tokens")!)
        token.setValue("attacker.example:8443", forHTTPHeaderField: "Host")
        token.setValue(admin.token, forHTTPHeaderField: "X-Auth-Token")
        token.setValue(admin.token, forHTTPHeaderField: "X-Subject-Token")
        let (checked, _) = try await URLSession.shared.data(for: token)
        let catalog = String(decoding: checked, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
        #expect(!catalog.contains("attacker.example") && catalog.contains("\(base)/v1.0/"), "\(catalog.prefix(600))")

        var metrics = URLRequest(url: URL(string: "\(base)/metrics")!)
        #expect((try await URLSession.shared.data(for: metrics).1 as? HTTPURLResponse)?.statusCode == 401)
        metrics.setValue(admin.token, forHTTPHeaderField: "X-Auth-Token")
        #expect((try await URLSession.shared.data(for: metrics).1 as? HTTPURLResponse)?.statusCode == 200)
    }

    static func checkGuestBrokerUsers(_ state: StateDirectory, _ admin: TroveSession) async throws {
        let first = try await admin.createInstance(name: "first", password: "first-pass-1")
        let second = try await admin.createInstance(name: "second", password: "second-pass-2")
        for id in [first, second] { try await admin.waitFor(id, status: "ACTIVE", operating: "HEALTHY") }

        // The URL the compute driver gave the first guest, read from its environment as an operator could.
        let guest = try #require(ProcessStatus.processes(commandLineContaining: "guestagent --instance-id \(first)").first)
        let environment = try #require(FileManager.default.contents(atPath: "/proc/\(guest)/environ"))
        let url = try #require(
            String(decoding: environment, as: UTF8.self).split(separator: "\0")
                .first { $0.hasPrefix("CELLAR_AMQP_URL=") }.map { String($0.dropFirst("CELLAR_AMQP_URL=".count)) })
        #expect(url.contains("guest-\(first):"), "the guest has a broker user of its own")

        // Each attempt on a connection of its own: a refusal closes the channel it happened on.
        func asGuest(_ operation: (BusPublisher) async throws -> Void) async throws {
            let publisher = try BusPublisher(url: url, role: .guest)
            defer { publisher.shutdown() }
            try await operation(publisher)
        }
        try await asGuest { try await $0.purgeQueue(Topology.guestQueue(first)) }  // its own queue: allowed
        for queue in [Topology.guestQueue(second), Topology.taskManagerQueue, Topology.conductorQueue] {
            await #expect(throws: BusError.self, "reading \(queue)") { try await asGuest { try await $0.purgeQueue(queue) } }
        }
        await #expect(throws: BusError.self, "publishing to the default exchange") {
            try await asGuest {
                try await $0.publish(
                    OutgoingMessage(
                        exchange: "", routingKey: Topology.guestQueue(second), body: Data("{}".utf8),
                        messageID: "forged", type: "prepare"))
            }
        }
        // Its own queue bound under another guest's name would hand it that guest's calls: refused.
        await #expect(throws: BusError.self, "binding its queue to another guest's calls") {
            try await asGuest {
                try await $0.declare(
                    RPCServer.queueSpec(Topology.guestQueue(first)),
                    bindings: [Binding(exchange: Topology.rpcExchange, routingKey: Topology.guestQueue(second))])
            }
        }
        // A report about the second instance from the first guest's user: the broker takes it, the conductor drops it.
        let forged = GuestReport(instanceID: second, condition: .crashed, volumeUsedBytes: 0, volumeSizeGB: 1, serverVersion: nil, sentAt: Date())
        try await asGuest { try await $0.publish(Topology.guestReport(try JSONEncoder.rpc.encode(forged), messageID: "forged-report")) }
        try await Task.sleep(for: .seconds(3))
        let secondNow = try #require(try await admin.instance(second))
        #expect(secondNow["status"] as? String == "ACTIVE" && secondNow["operating_status"] as? String == "HEALTHY", "\(secondNow)")

        // Deleting the instance removes its broker user.
        #expect(try await admin.trove("DELETE", "/instances/\(first)").status == 202)
        try await admin.waitUntilGone(first)
        let stack = try LocalStack(stateDirectory: state)
        #expect(try !stack.rabbitMQ.users().contains("guest-\(first)"))
        #expect(try stack.rabbitMQ.users().contains("guest-\(second)"))
    }

    /// A create request the API would refuse (a bad database name), written to the log directly as an old client
    /// or a bug might, with its user's password sealed as the API seals it: the guest refuses it in prepare.
    static func createFailingInPrepare(state: StateDirectory, projectID: String, password: String) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let stream = "instance-\(id)"
        let box = try SecretBox(base64Key: try String(contentsOf: state.url.appendingPathComponent("secret.key"), encoding: .utf8))
        let sealed = try box.seal(password, context: "\(stream)/user:app@%")
        let spec = Instance.Spec(
            id: id, projectId: projectID, name: "refused", flavorId: "1", volumeSize: 1,
            datastore: Datastore(type: "postgresql", version: "15"),
            databases: [Instance.DatabaseSpec(name: "bad name; DROP", characterSet: nil, collate: nil)],
            users: [Instance.UserSpec(name: "app", host: "%", databases: [], passwordSet: true)],
            configurationId: nil, replicaOf: nil, createdAt: Date())
        let event = Instance.Event.instanceCreateRequested(spec)
        try await TestDatabase.withClient(url: try LocalStack(stateDirectory: state).postgres.url) { client in
            try await client.query(
                "INSERT INTO pending_secrets (stream_id, name, sealed) VALUES (\(stream), 'user:app@%', \(sealed))",
                logger: TestServers.logger)
            _ = try await PostgresEventStore(client: client, logger: TestServers.logger).append(
                to: stream, expectedVersion: .noStream,
                events: [
                    NewEvent(
                        type: event.eventType, data: try event.encodedData(),
                        metadata: try JSONEncoder().encode(EventMetadata(service: "test", requestID: "req-refused")))
                ])
        }
        return id
    }

    /// Every regular file under `folder`, following no links.
    static func files(under folder: URL) -> [URL] {
        guard let walk = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walk.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }
}
