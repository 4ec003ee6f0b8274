import Foundation
import GuestProtocol
import Lifecycle
import Logging
import PostgresNIO
import Secrets

/// The sealed passwords the API left in `pending_secrets` for an instance's guest.
struct InstanceSecrets: Sendable {
    let client: PostgresClient
    let box: SecretBox
    let logger: Logger

    /// Every sealed secret of `stream`, opened, by name.
    func passwords(stream: String) async throws -> [SecretName: String] {
        let rows = try await client.query("SELECT name, sealed FROM pending_secrets WHERE stream_id = \(stream)", logger: logger)
        var passwords: [SecretName: String] = [:]
        for try await (key, sealed) in rows.decode((String, String).self) {
            guard let name = SecretName(key: key) else { continue }
            passwords[name] = try box.open(sealed, context: "\(stream)/\(name.key)")
        }
        return passwords
    }

    /// The box of one guest: what the task manager seals that guest's passwords with (see `SecretBox.guestKey`).
    func guestBox(for instanceID: String) throws -> SecretBox { try box.guestBox(for: instanceID) }

    /// The replication password of an active-passive cluster, sealed for one member.
    func sealedReplicationPassword(cluster clusterID: String, for instanceID: String) throws -> SealedPassword {
        SealedPassword(
            sealed: try guestBox(for: instanceID).seal(box.replicationPassword(forCluster: clusterID), context: SealedPassword.replicationPurpose))
    }

    /// The password of the guest's own broker user.
    func guestBrokerPassword(for instanceID: String) -> String { box.guestBrokerPassword(for: instanceID) }

    /// Forgets the stream's secrets once the guest has them.
    func purge(stream: String) async throws {
        try await client.query("DELETE FROM pending_secrets WHERE stream_id = \(stream)", logger: logger)
    }

    /// Forgets the named secrets of the stream.
    func purge(stream: String, names: [SecretName]) async throws {
        let keys = names.map(\.key)
        try await client.query("DELETE FROM pending_secrets WHERE stream_id = \(stream) AND name = ANY(\(keys))", logger: logger)
    }

    /// Forgets every user password of the stream.
    func purgeUserPasswords(stream: String) async throws {
        let pattern = SecretName.userKeyPrefix + "%"
        try await client.query("DELETE FROM pending_secrets WHERE stream_id = \(stream) AND name LIKE \(pattern)", logger: logger)
    }
}
