import PostgresNIO

/// An error with the message a person needs (PostgresNIO hides server messages from `description`).
public struct ReadableError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) { self.description = description }

    /// Runs `body`, turning a PostgreSQL error into its server message (or connection problem).
    public static func translating<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw ReadableError(description: describe(error))
        }
    }

    public static func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] {
            let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
            return "PostgreSQL: \(message)\(detail)"
        }
        if let underlying = error.underlying { return "PostgreSQL connection failed: \(underlying)" }
        return "PostgreSQL error: \(error.code)"
    }
}
