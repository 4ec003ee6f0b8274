import APICore
import EventStore
import Foundation
import Logging
import PostgresNIO

/// Projects, users, roles and tokens of the built-in Keystone-v3 subset, kept in PostgreSQL (`migrations/0006`).
///
/// Passwords are stored as salted PBKDF2 hashes and tokens as their SHA-256 only. As a `TokenValidator` it turns
/// an `X-Auth-Token` into the caller for the rest of the API.
public struct IdentityStore: TokenValidator {
    let client: PostgresClient
    let logger: Logger
    let hasher: PasswordHasher
    /// In microseconds.
    let tokenLifetime: Int64
    /// Keystone's lockout of a user after failed logins in a row.
    let lockout: LockoutPolicy

    /// - Parameters:
    ///   - passwordHasher: how new passwords are hashed (tests may use fewer iterations than the default).
    ///   - tokenLifetime: how long an issued token stays valid (Keystone's default: 12 hours).
    ///   - lockout: after how many failed logins in a row a user is locked out, and for how long.
    public init(
        client: PostgresClient,
        logger: Logger,
        passwordHasher: PasswordHasher = PasswordHasher(),
        tokenLifetime: Duration = .seconds(12 * 3600),
        lockout: LockoutPolicy = LockoutPolicy()
    ) {
        self.client = client
        self.logger = logger
        self.hasher = passwordHasher
        self.lockout = lockout
        let parts = tokenLifetime.components
        self.tokenLifetime = parts.seconds * 1_000_000 + parts.attoseconds / 1_000_000_000_000
    }

    /// Runs `body` in a transaction (its own error, e.g. `IdentityError`, comes through as it is).
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withGuardedTransaction(logger: logger) { connection in try await body(connection) }
    }

    /// Turns a unique violation into `conflict`; other errors pass through.
    func mappingUniqueViolation<T>(to conflict: IdentityError, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw conflict
        }
    }

    static func checkName(_ name: String, limit: Int) throws(IdentityError) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed == name else { throw .invalidName("names must not be empty or start or end with spaces") }
        guard name.count <= limit else { throw .invalidName("names are at most \(limit) characters") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidName("names must not contain control characters")
        }
    }
}
