/// The character sets and collations a datastore version's real server offers (PostgreSQL: its encodings and
/// `pg_collation`; MariaDB: `SHOW CHARACTER SET`, `SHOW COLLATION`), loaded like its parameters.
public struct CharacterSetCatalog: Codable, Sendable, Equatable {
    /// Character set names.
    public var characterSets: [String]
    /// Collation names, each with the character set it belongs to ("" where it fits any, as PostgreSQL's).
    public var collations: [String: String]

    public init(characterSets: [String], collations: [String: String]) {
        self.characterSets = characterSets
        self.collations = collations
    }
}

/// How a datastore takes character set and collation names: its aliases and how strictly it matches them.
public protocol CharacterSetRules: Sendable {
    /// The name the catalog lists for `name` (e.g. MariaDB's `utf8` is `utf8mb3`).
    func canonicalCharacterSet(_ name: String) -> String
    func canonicalCollation(_ name: String) -> String
}

extension DatastoreDescriptor {
    /// Why `characterSet` / `collation` (either may be absent) cannot be used on this datastore, naming `field`
    /// (e.g. `instance.databases[0]`); nil when they can.
    public func problem(characterSet: String?, collation: String?, in catalog: CharacterSetCatalog, field: String) -> String? {
        let sets = Dictionary(catalog.characterSets.map { (canonicalCharacterSet($0), $0) }, uniquingKeysWith: { first, _ in first })
        let wantedSet = characterSet.map(canonicalCharacterSet)
        if let characterSet, let wantedSet, sets[wantedSet] == nil {
            return
                "'\(field).character_set' \(characterSet) is not a character set of \(displayName); it has \(catalog.characterSets.sorted().prefix(12).joined(separator: ", ")), ..."
        }
        guard let collation else { return nil }
        let collations = Dictionary(catalog.collations.map { (canonicalCollation($0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let owner = collations[canonicalCollation(collation)] else {
            return "'\(field).collate' \(collation) is not a collation of \(displayName)."
        }
        if let wantedSet, !owner.isEmpty, canonicalCharacterSet(owner) != wantedSet {
            return "'\(field).collate' \(collation) belongs to character set \(owner), not \(characterSet ?? "")."
        }
        return nil
    }
}
