import Logging
import PostgresNIO

// PostgresNIO writes a query to its connection's channel without a write promise: on a connection the server has
// already closed (a restart, `pg_terminate_backend`), the write fails unseen and the query waits forever, and so
// does whoever awaits it (a projection, a saga, a request). Every query Cellar runs on a leased connection, and its
// transactions' BEGIN and COMMIT, go through these: a closed connection is refused up front with an error the
// callers' retry loops know.

/// The connection was closed (by the server or the network) before the statement could be sent.
public struct ConnectionClosed: Error, CustomStringConvertible {
    public var description: String { "the database connection was closed (the server restarted or went away)" }
}

extension PostgresConnection {
    /// `query`, refused with `ConnectionClosed` when the connection is already closed.
    @discardableResult
    public func guardedQuery(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        guard !isClosed else { throw ConnectionClosed() }
        return try await self.query(query, logger: logger, file: file, line: line)
    }
}

extension PostgresClient {
    /// Runs `body` in a transaction on one leased connection: COMMIT when it returns, ROLLBACK when it throws (the
    /// error is rethrown as it is). Unlike `withTransaction`, BEGIN and COMMIT are refused on a closed connection.
    public func withGuardedTransaction<T: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.guardedQuery("BEGIN", logger: logger)
            let value: T
            do {
                value = try await body(connection)
            } catch {
                if !connection.isClosed { _ = try? await connection.guardedQuery("ROLLBACK", logger: logger) }
                throw error
            }
            try await connection.guardedQuery("COMMIT", logger: logger)
            return value
        }
    }
}
