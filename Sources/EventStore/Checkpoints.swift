import PostgresNIO

extension PostgresEventStore {
    /// Where the reader called `name` stands in the log (`.start` before its first save).
    ///
    /// Projections save theirs in the same transaction as their rows; other readers (the bus relay) save
    /// theirs after their effect is durable elsewhere.
    public func checkpoint(named name: String) async throws -> LogPosition {
        let logger = self.logger
        return try await client.withConnection { connection in try await Self.checkpoint(named: name, on: connection, logger: logger) }
    }

    /// Moves the checkpoint called `name` forward to `position` (never backwards).
    public func saveCheckpoint(_ position: LogPosition, named name: String) async throws {
        let logger = self.logger
        try await client.withConnection { connection in
            try await Self.saveCheckpoint(position, named: name, on: connection, logger: logger)
        }
    }

    static func checkpoint(named name: String, on connection: PostgresConnection, logger: Logger) async throws -> LogPosition {
        let rows = try await connection.guardedQuery(
            """
            SELECT tx_id::text, global_position FROM projection_checkpoints WHERE name = \(name)
            """, logger: logger)
        for try await (transaction, position) in rows.decode((String, Int64).self) {
            return LogPosition(transactionID: Int64(transaction) ?? 0, globalPosition: position)
        }
        return .start
    }

    static func saveCheckpoint(_ position: LogPosition, named name: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.guardedQuery(
            """
            INSERT INTO projection_checkpoints (name, tx_id, global_position, updated_at)
            VALUES (\(name), \(String(position.transactionID))::xid8, \(position.globalPosition), now())
            ON CONFLICT (name) DO UPDATE
            SET tx_id = excluded.tx_id, global_position = excluded.global_position, updated_at = excluded.updated_at
            WHERE (projection_checkpoints.tx_id, projection_checkpoints.global_position) < (excluded.tx_id, excluded.global_position)
            """, logger: logger)
    }
}
