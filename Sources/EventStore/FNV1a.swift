/// FNV-1a, 64 bits: a stable hash of bytes (Swift's `hashValue` is seeded per process). Stored values depend on it
/// (migration checksums, the catalog's ids), so its output must never change.
public enum FNV1a {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x100_0000_01b3

    /// The hash of `bytes`; `offsetBasis` and `addend` (added after each multiplication) give other streams of
    /// the same family, e.g. a second half of a 128-bit id.
    public static func hash(_ bytes: some Sequence<UInt8>, offsetBasis: UInt64 = offsetBasis, addend: UInt64 = 0) -> UInt64 {
        bytes.reduce(offsetBasis) { (($0 ^ UInt64($1)) &* prime) &+ addend }
    }
}
