import EventStore
import Logging
import PostgresNIO

/// Makes a message handler idempotent: the message id is recorded in `inbox` in the same PostgreSQL
/// transaction as the handler's effects, so a redelivered message (after a broker restart, a consumer crash or a
/// relay re-publish) changes nothing.
public struct IdempotentConsumer: Sendable {
    /// Names this consumer in the inbox; two consumers of the same message keep separate records.
    public let name: String
    let client: PostgresClient
    let logger: Logger

    public init(name: String, client: PostgresClient, logger: Logger) {
        self.name = name
        self.client = client
        self.logger = logger
    }

    /// Runs `effect` for a message seen for the first time; returns false (and does nothing) for a duplicate.
    @discardableResult
    public func handle(_ delivery: Delivery, effect: @Sendable (PostgresConnection) async throws -> Void) async throws -> Bool {
        guard let messageID = delivery.messageID, !messageID.isEmpty else {
            throw BusError(.refused, "a message without message_id cannot be de-duplicated (routing key \(delivery.routingKey))")
        }
        let (name, logger) = (self.name, self.logger)
        return try await client.withGuardedTransaction(logger: logger) { connection in
            // A concurrent duplicate waits here for the first one's commit, then inserts nothing.
            let inserted = try await connection.guardedQuery(
                """
                INSERT INTO inbox (consumer, message_id) VALUES (\(name), \(messageID))
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger: logger)
            var isNew = false
            for try await _ in inserted { isNew = true }
            guard isNew else { return false }
            try await effect(connection)
            return true
        }
    }
}
