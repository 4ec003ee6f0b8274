import EventStore

/// Wakes long-polling requests when read models change (fed by the projection service of the same process).
public final class ReadModelChanges: Sendable {
    private let wakeUps = WakeUps()

    public init() {}

    /// Called after a projection applied a batch.
    public func changed() { wakeUps.wake(nil) }

    /// Returns after the next change, or after `limit` at the latest.
    public func nextChange(limit: Duration) async { await wakeUps.wait(for: nil, limit: limit) }
}
