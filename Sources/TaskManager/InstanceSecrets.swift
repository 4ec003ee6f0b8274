import Foundation
import Logging
import PostgresNIO
import Secrets

/// The sealed passwords the API left in `pending_secrets` for an instance's guest.
struct InstanceSecrets: Sendable {
    let client: PostgresClient
    let box: SecretBox
    let logger: Logger

    /// The user passwords of `stream`, opened, by user name.
    func userPasswords(stream: String) async throws -> [String: String] {
        let rows = try await client.query("SELECT name, sealed FROM pending_secrets WHERE stream_id = \(stream)", logger: logger)
        var passwords: [String: String] = [:]
        for try await (name, sealed) in rows.decode((String, String).self) where name.hasPrefix("user:") {
            let user = String(name.dropFirst("user:".count).prefix { $0 != "@" })
            passwords[user] = try box.open(sealed, context: "\(stream)/\(name)")
        }
        return passwords
    }

    /// Forgets the stream's secrets once the guest has them.
    func purge(stream: String) async throws {
        try await client.query("DELETE FROM pending_secrets WHERE stream_id = \(stream)", logger: logger)
    }
}
