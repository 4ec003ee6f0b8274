import APICore
import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO
import ReadModels

/// The command side of configuration groups: fold `configuration-<id>`, decide, append with the expected
/// version, wait until `configuration_groups` shows it.
struct ConfigurationCommands: Sendable {
    let store: PostgresEventStore
    let projection: ProjectionRunner
    let logger: Logger

    init(store: PostgresEventStore, logger: Logger) {
        self.store = store
        self.projection = ProjectionRunner(store: store, projection: ConfigurationProjection())
        self.logger = logger
    }

    /// The folded group (empty when it never existed).
    func state(of id: String) async throws -> ConfigurationGroup.State {
        let events = try await store.readStream("configuration-\(id)")
        var state = ConfigurationGroup.replay(events.compactMap { try? ConfigurationGroup.Event.decode(eventType: $0.type, data: $0.data) })
        state.version = events.last?.streamVersion ?? 0
        return state
    }

    /// Runs `command` on group `id` (one retry after a concurrent write, then 409).
    @discardableResult
    func execute(_ command: ConfigurationGroup.Command, on id: String, caller: AuthContext, requestID: String) async throws -> ConfigurationGroup.State {
        for attempt in 1...2 {
            let state = try await state(of: id)
            if case .create = command {} else {
                guard state.exists, caller.isAdmin || state.created?.projectId == caller.projectID else {
                    throw TroveError.notFound("Configuration group \(id) could not be found.")
                }
            }
            let events: [ConfigurationGroup.Event]
            do { events = try ConfigurationGroup.decide(command, state: state) } catch { throw TroveError.from(error) }
            let metadata = try JSONEncoder().encode(EventMetadata(caller: caller, requestID: requestID))
            do {
                let result = try await store.append(
                    to: "configuration-\(id)", expectedVersion: state.version == 0 ? .noStream : .exact(state.version),
                    events: try events.map { NewEvent(type: $0.eventType, data: try $0.encodedData(), metadata: metadata) })
                try await projection.awaitApplied(result.events.last?.logPosition, logger: logger)
                return events.reduce(state) { ConfigurationGroup.evolve($0, $1) }
            } catch is WrongExpectedVersion where attempt == 1 {
                continue
            }
        }
        throw TroveError.conflict("Configuration group \(id) was changed by another request at the same time; retry.")
    }
}
