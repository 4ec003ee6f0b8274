import API
import CellarTestSupport
import EventStore
import Foundation
import Lifecycle
import Secrets

/// Records what the task manager and the guests would report, for API tests that run without them.
struct InstanceFacts {
    let commands: InstanceCommands

    init(_ database: TestDatabase) throws {
        commands = InstanceCommands(
            store: database.eventStore(), client: database.client, chart: TroveAPIFixture.charts.instance,
            secrets: try SecretBox(base64Key: TroveAPIFixture.secretKey), logger: TestServers.logger)
    }

    /// Runs `command` on instance `id` as Cellar's own services would.
    func record(_ command: Instance.Command, on id: String) async throws {
        try await commands.execute(command, on: id, caller: FixedTokens.admin, requestID: "req-\(UUID().uuidString.lowercased())")
    }

    /// Moves a new instance to ACTIVE on `address`, as a successful build does.
    func activate(_ id: String, address: String = "127.42.0.9") async throws {
        try await record(.recordComputeAllocated(serverId: "server-\(id)", address: address), on: id)
        try await record(.recordGuestRegistered, on: id)
        try await record(.recordBecameActive, on: id)
    }
}
