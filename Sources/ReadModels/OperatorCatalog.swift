import EventStore
import Foundation
import Lifecycle
import Logging
import PostgresNIO

/// A datastore version users can create instances of.
public struct DatastoreVersion: Sendable, Equatable {
    public var id: String
    public var datastoreID: String
    public var datastoreName: String
    /// What users name it (`15`).
    public var name: String
    /// The exact server version (`15.4`).
    public var version: String
    /// The guest manager that runs it (`postgresql`).
    public var manager: String
    public var active: Bool
}

/// A datastore with its versions.
public struct DatastoreEntry: Sendable, Equatable {
    public var id: String
    public var name: String
    public var defaultVersionID: String?
    /// The operator's default datastore: what a create without `datastore` gets.
    public var isDefault: Bool
    public var versions: [DatastoreVersion]
}

/// An operator's catalog change that names what does not exist.
public enum CatalogError: Error, CustomStringConvertible, Equatable {
    case unknownDatastore(String, choices: [String])
    case unknownVersion(String, datastore: String, choices: [String])

    public var description: String {
        switch self {
        case .unknownDatastore(let name, let choices):
            "There is no datastore '\(name)'; the catalog has: \(choices.isEmpty ? "none" : choices.joined(separator: ", "))."
        case .unknownVersion(let name, let datastore, let choices):
            "Datastore \(datastore) has no version '\(name)'; it has: \(choices.isEmpty ? "none" : choices.joined(separator: ", "))."
        }
    }
}

/// A flavor: the size of an instance.
public struct Flavor: Sendable, Equatable {
    public var id: String
    public var name: String
    public var ramMB: Int
    public var vcpus: Int
    public var diskGB: Int
    public var ephemeralGB: Int

    public init(id: String, name: String, ramMB: Int, vcpus: Int, diskGB: Int, ephemeralGB: Int = 0) {
        self.id = id
        self.name = name
        self.ramMB = ramMB
        self.vcpus = vcpus
        self.diskGB = diskGB
        self.ephemeralGB = ephemeralGB
    }
}

/// Operator data (datastores, versions, flavors): plain tables managed by `cellar datastore` / `cellar flavor`.
public struct OperatorCatalog: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// Where the API keeps datastores and flavors between changes (nil: always the database).
    let cache: CatalogCache?

    public init(client: PostgresClient, logger: Logger, cache: CatalogCache? = nil) {
        self.client = client
        self.logger = logger
        self.cache = cache
    }

    /// Every datastore with its versions, by name.
    public func datastores() async throws -> [DatastoreEntry] {
        guard let cache else { return try await loadDatastores() }
        return try await cache.datastores { try await loadDatastores() }
    }

    private func loadDatastores() async throws -> [DatastoreEntry] {
        var entries: [String: DatastoreEntry] = [:]
        let rows = try await client.query("SELECT id, name, default_version_id, is_default FROM datastores ORDER BY name", logger: logger)
        var order: [String] = []
        for try await (id, name, defaultVersion, isDefault) in rows.decode((String, String, String?, Bool).self) {
            entries[id] = DatastoreEntry(id: id, name: name, defaultVersionID: defaultVersion, isDefault: isDefault, versions: [])
            order.append(id)
        }
        for version in try await versions() { entries[version.datastoreID]?.versions.append(version) }
        return order.compactMap { entries[$0] }
    }

    /// A datastore by id or name.
    public func datastore(_ idOrName: String) async throws -> DatastoreEntry? {
        try await datastores().first { $0.id == idOrName || $0.name == idOrName }
    }

    /// The operator's default datastore (nil: none chosen).
    public func defaultDatastore() async throws -> DatastoreEntry? {
        try await datastores().first(where: \.isDefault)
    }

    /// Makes `datastore` (a name or id) the default, optionally with `version` (a name or id) as its default
    /// version; nil clears the default. Throws `CatalogError` naming the choices when either is unknown.
    public func setDefault(datastore: String?, version: String? = nil) async throws {
        guard let datastore else {
            try await client.query("UPDATE datastores SET is_default = false WHERE is_default", logger: logger)
            return
        }
        let all = try await loadDatastores()
        guard let entry = all.first(where: { $0.name == datastore || $0.id == datastore }) else {
            throw CatalogError.unknownDatastore(datastore, choices: all.map(\.name))
        }
        var versionID = entry.defaultVersionID
        if let version {
            guard let found = entry.versions.first(where: { $0.name == version || $0.id == version }) else {
                throw CatalogError.unknownVersion(version, datastore: entry.name, choices: entry.versions.map(\.name))
            }
            versionID = found.id
        }
        let id = entry.id
        try await client.withGuardedTransaction(logger: logger) { connection in
            try await connection.guardedQuery("UPDATE datastores SET is_default = false WHERE is_default AND id <> \(id)", logger: logger)
            try await connection.guardedQuery(
                "UPDATE datastores SET is_default = true, default_version_id = \(versionID) WHERE id = \(id)", logger: logger)
        }
    }

    /// Every version (optionally of one datastore), by datastore and name.
    public func versions(ofDatastore datastoreID: String? = nil) async throws -> [DatastoreVersion] {
        let rows = try await client.query(
            """
            SELECT v.id, v.datastore_id, d.name, v.name, v.version, v.manager, v.active
            FROM datastore_versions v JOIN datastores d ON d.id = v.datastore_id
            WHERE \(datastoreID)::text IS NULL OR v.datastore_id = \(datastoreID)
            ORDER BY d.name, v.name
            """, logger: logger)
        var versions: [DatastoreVersion] = []
        for try await (id, datastoreID, datastoreName, name, version, manager, active)
            in rows.decode((String, String, String, String, String, String, Bool).self)
        {
            versions.append(
                DatastoreVersion(
                    id: id, datastoreID: datastoreID, datastoreName: datastoreName,
                    name: name, version: version, manager: manager, active: active))
        }
        return versions
    }

    /// Every flavor, by RAM then name.
    public func flavors() async throws -> [Flavor] {
        guard let cache else { return try await loadFlavors() }
        return try await cache.flavors { try await loadFlavors() }
    }

    private func loadFlavors() async throws -> [Flavor] {
        let rows = try await client.query(
            "SELECT id, name, ram_mb, vcpus, disk_gb, ephemeral_gb FROM flavors ORDER BY ram_mb, name", logger: logger)
        var flavors: [Flavor] = []
        for try await (id, name, ram, vcpus, disk, ephemeral) in rows.decode((String, String, Int, Int, Int, Int).self) {
            flavors.append(Flavor(id: id, name: name, ramMB: ram, vcpus: vcpus, diskGB: disk, ephemeralGB: ephemeral))
        }
        return flavors
    }

    /// A flavor by id or name.
    public func flavor(_ idOrName: String) async throws -> Flavor? {
        try await flavors().first { $0.id == idOrName || $0.name == idOrName }
    }

    /// Adds or updates a datastore version; the first version of a datastore becomes its default.
    public func upsertVersion(datastore: String, name: String, version: String, manager: String, active: Bool = true) async throws {
        let datastoreID = Self.stableID("datastore:\(datastore)")
        let versionID = Self.stableID("datastore-version:\(datastore):\(name)")
        try await client.withGuardedTransaction(logger: logger) { connection in
            try await connection.guardedQuery(
                """
                INSERT INTO datastores (id, name) VALUES (\(datastoreID), \(datastore)) ON CONFLICT (name) DO NOTHING
                """, logger: logger)
            try await connection.guardedQuery(
                """
                INSERT INTO datastore_versions (id, datastore_id, name, version, manager, active)
                SELECT \(versionID), id, \(name), \(version), \(manager), \(active) FROM datastores WHERE name = \(datastore)
                ON CONFLICT (datastore_id, name) DO UPDATE SET version = excluded.version, manager = excluded.manager,
                    active = excluded.active
                """, logger: logger)
            try await connection.guardedQuery(
                """
                UPDATE datastores d SET default_version_id = v.id FROM datastore_versions v
                WHERE d.name = \(datastore) AND d.default_version_id IS NULL AND v.datastore_id = d.id AND v.name = \(name)
                """, logger: logger)
        }
    }

    /// Adds or updates a flavor.
    public func upsertFlavor(_ flavor: Flavor) async throws {
        try await client.query(
            """
            INSERT INTO flavors (id, name, ram_mb, vcpus, disk_gb, ephemeral_gb)
            VALUES (\(flavor.id), \(flavor.name), \(flavor.ramMB), \(flavor.vcpus), \(flavor.diskGB), \(flavor.ephemeralGB))
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, ram_mb = excluded.ram_mb, vcpus = excluded.vcpus,
                disk_gb = excluded.disk_gb, ephemeral_gb = excluded.ephemeral_gb
            """, logger: logger)
    }

    /// What `cellar up` seeds where the catalog lacks it: each datastore of `Datastores.all` at its seeded
    /// version (PostgreSQL 15 into an empty catalog only, so an operator who removed it keeps it removed; MariaDB
    /// 10.11 wherever it is missing, and the default when it is seeded and none is chosen, as Trove deployments
    /// default to the MySQL family) and a few flavors.
    public func seedDefaults() async throws {
        let known = try await loadDatastores()
        for (index, descriptor) in Datastores.all.enumerated() {
            let name = descriptor.manager
            guard index == 0 ? known.isEmpty : !known.contains(where: { $0.name == name }) else { continue }
            try await upsertVersion(datastore: name, name: descriptor.seededVersion, version: descriptor.seededVersion, manager: name)
            if Self.defaultDatastore == name, !known.contains(where: \.isDefault) { try await setDefault(datastore: name) }
        }
        if try await flavors().isEmpty {
            for flavor in [
                Flavor(id: "1", name: "db.tiny", ramMB: 256, vcpus: 1, diskGB: 1),
                Flavor(id: "2", name: "db.small", ramMB: 512, vcpus: 1, diskGB: 5),
                Flavor(id: "3", name: "db.medium", ramMB: 1024, vcpus: 2, diskGB: 10),
                Flavor(id: "4", name: "db.large", ramMB: 2048, vcpus: 2, diskGB: 20),
            ] { try await upsertFlavor(flavor) }
        }
    }

    /// The datastore `cellar up` makes the default when it seeds it and none is chosen.
    static let defaultDatastore = MariaDBDescriptor().manager

    /// A UUID-shaped id derived from a name, so re-seeding gives the same ids on every server.
    static func stableID(_ name: String) -> String {
        let first = FNV1a.hash(name.utf8)
        let second = FNV1a.hash(name.utf8, offsetBasis: 0x8422_2325_cbf2_9ce4, addend: 7)
        let hex = String(format: "%016llx%016llx", first, second)
        let characters = Array(hex)
        return
            "\(String(characters[0..<8]))-\(String(characters[8..<12]))-\(String(characters[12..<16]))-\(String(characters[16..<20]))-\(String(characters[20..<32]))"
    }
}
