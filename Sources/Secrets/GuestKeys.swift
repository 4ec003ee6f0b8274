import Crypto
import Foundation

extension SecretBox {
    /// The key of one guest, derived from this box's key (HKDF-SHA256, the guest's id as info): the task
    /// manager seals a guest's passwords with it, and only that guest, which gets it in a file of its own folder
    /// at allocation, can open them. Deriving it means nothing new is stored, and a guest restarted on another
    /// day gets the same key.
    public func guestKey(for guestID: String) -> String {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("cellar-guest/\(guestID)".utf8), outputByteCount: 32)
        return derived.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// The password of the guest's own broker user, derived like its key (so it is the same after any restart
    /// and stored nowhere); letters, digits, `-` and `_` only, to sit in a URL as it is.
    public func guestBrokerPassword(for guestID: String) -> String {
        guestKey(for: "broker/\(guestID)").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The password of an active-passive cluster's replication account (`os_replicator`), derived like the
    /// others: every member of the cluster gets the same one, sealed for itself, and it is stored nowhere here.
    public func replicationPassword(forCluster clusterID: String) -> String {
        guestBrokerPassword(for: "replication/\(clusterID)")
    }

    /// A box under the key of guest `guestID` (see `guestKey(for:)`).
    public func guestBox(for guestID: String) throws -> SecretBox {
        try SecretBox(base64Key: guestKey(for: guestID))
    }
}
