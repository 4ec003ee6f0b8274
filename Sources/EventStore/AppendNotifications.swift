import Logging
import PostgresNIO

/// Wakes whoever waits for particular streams as soon as an event is appended to one of them (the store's
/// `NOTIFY cellar_events` carries the stream's id), so a saga waiting for an instance to register or become
/// ready reacts within milliseconds instead of at its next poll. A wait always ends after its limit too: a
/// lost notification only costs that limit.
public final class AppendNotifications: Sendable {
    private let wakeUps = WakeUps()

    public init() {}

    /// Listens until cancelled; reconnects after errors (waits then end by their limits meanwhile).
    public func run(client: PostgresClient, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: PostgresEventStore.notificationChannel) { notifications in
                        for try await notification in notifications { self.wakeUps.wake(notification.payload) }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("append notifications interrupted; waits end by their limits", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Returns after the next append to one of `streams`, or after `limit` at the latest.
    public func nextAppend(to streams: Set<String>, limit: Duration) async {
        await wakeUps.wait(for: streams, limit: limit)
    }
}
