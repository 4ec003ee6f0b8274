import Foundation
import GuestProtocol
import Logging
import PostgresNIO

/// Gives every instance its own loopback address (`<prefix>.x.y`, 127.42.x.y by default), so its datastore listens on the standard port
/// as on a small VM. A lease row per instance (unique address, unique instance) means no two instances ever
/// share one, however many task managers run; addresses another program already uses are skipped.
struct AddressBook: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// The first two octets of the pool (two Cellars on one machine should use different pools).
    var prefix = "127.42"
    /// Whether nothing else on the host listens on an address and port (the compute driver knows).
    let isFree: @Sendable (_ address: String, _ port: Int) -> Bool

    /// The instance's address: the one it already leased, else the lowest free one: nothing listens there on
    /// `port` nor on the guest's check port (a program left running by something else keeps its address).
    func lease(for instanceID: String, port: Int) async throws -> String {
        if let existing = try await leased(by: instanceID) { return existing }
        let taken = try await leasedAddresses()
        for third in 0...255 {
            for fourth in 1...254 {
                let address = "\(prefix).\(third).\(fourth)"
                guard !taken.contains(address), isFree(address, port), isFree(address, BalancerCheck.port) else { continue }
                let rows = try await client.query(
                    """
                    INSERT INTO address_leases (address, instance_id) VALUES (\(address), \(instanceID))
                    ON CONFLICT DO NOTHING RETURNING address
                    """, logger: logger)
                for try await _ in rows { return address }
                // Another instance took it meanwhile, or this instance leased one concurrently.
                if let existing = try await leased(by: instanceID) { return existing }
            }
        }
        throw PermanentFailure("no free address left in \(prefix).0.0/16")
    }

    /// Frees the instance's address.
    func release(for instanceID: String) async throws {
        try await client.query("DELETE FROM address_leases WHERE instance_id = \(instanceID)", logger: logger)
    }

    /// The address `owner` (an instance, or `cluster-<id>` for a balancer) holds, if any.
    func leased(by instanceID: String) async throws -> String? {
        let rows = try await client.query("SELECT address FROM address_leases WHERE instance_id = \(instanceID)", logger: logger)
        for try await address in rows.decode(String.self) { return address }
        return nil
    }

    private func leasedAddresses() async throws -> Set<String> {
        var addresses: Set<String> = []
        for try await address in try await client.query("SELECT address FROM address_leases", logger: logger).decode(String.self) {
            addresses.insert(address)
        }
        return addresses
    }
}
