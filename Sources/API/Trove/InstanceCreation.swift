import APICore
import Foundation
import Lifecycle
import ReadModels

/// Checks a create request against the operator catalog and the datastore's rules (its `DatastoreDescriptor`),
/// and builds the command.
struct InstanceCreation {
    let catalog: OperatorCatalog
    let reads: InstanceReadModel
    let configurations: ConfigurationReadModel

    static let maximumVolumeGB = 1000

    /// - Parameter backup: the backup of `restorePoint`, found and checked complete by the caller: its datastore
    ///   is the default, and the volume must hold it.
    func command(
        for body: CreateInstanceRequest.Body, id: String, caller: AuthContext, restoring backup: Backup.State? = nil
    ) async throws -> Instance.CreateRequest {
        let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw TroveError.badRequest("'instance.name' must not be empty.") }
        guard name.count <= 255 else { throw TroveError.badRequest("'instance.name' is longer than 255 characters.") }

        // A replica takes its source's datastore, flavor and volume size where the request gives none (the
        // openstack CLI sends no flavor with --replica-of).
        var (choice, flavorRef, volumeRequest) = (body.datastore, body.flavorRef, body.volume)
        if let replicaOf = body.replicaOf, let source = try await reads.instance(replicaOf, project: caller.isAdmin ? nil : caller.projectID) {
            choice = choice ?? .init(type: source.datastoreType, version: source.datastoreVersion)
            flavorRef = flavorRef ?? StringOrInt(source.flavorID)
            volumeRequest = volumeRequest ?? .init(size: source.volumeSize)
        }
        if let backup {
            guard body.replicaOf == nil else { throw TroveError.badRequest("A replica copies its source; it cannot also be restored from a backup.") }
            choice = choice ?? backup.datastore.map { .init(type: $0.type, version: $0.version) }
        }
        let (flavor, volume) = try await Self.flavorAndVolume(flavorRef, volumeRequest, in: "instance", catalog: catalog)
        let (datastore, versionID) = try await chooseDatastore(choice)
        let rules = try Self.rules(of: datastore)
        if let backup, let source = backup.datastore {
            guard source.type == datastore.type, source.version == datastore.version else {
                throw TroveError.badRequest(
                    "Backup \(backup.id) is of \(source.type) \(source.version); it restores only into \(source.type) \(source.version), not \(datastore.type) \(datastore.version)."
                )
            }
            let needed = Int((backup.size ?? 0).rounded(.up))
            guard volume.size >= needed else {
                throw TroveError.badRequest("Backup \(backup.id) needs a volume of at least \(needed) GB; \(volume.size) GB was asked.")
            }
        }
        if let replicaOf = body.replicaOf {
            try await checkReplicaSource(replicaOf, datastore: datastore, rules: rules, count: body.replicaCount, caller: caller)
        }
        var group: ConfigurationRecord?
        if let configuration = body.configuration {
            group = try await configurations.group(configuration, project: caller.isAdmin ? nil : caller.projectID)
            guard let group else { throw TroveError.notFound("Configuration group \(configuration) could not be found.") }
            guard group.datastoreName == datastore.type, group.datastoreVersionName == datastore.version else {
                throw TroveError.badRequest(
                    "Configuration group \(group.id) is for \(group.datastoreName) \(group.datastoreVersionName), not \(datastore.type) \(datastore.version)."
                )
            }
        }
        let databases = try (body.databases ?? []).map { database -> Instance.DatabaseSpec in
            try Self.check(database.name, as: .database, on: rules)
            return Instance.DatabaseSpec(name: database.name, characterSet: database.characterSet, collate: database.collate)
        }
        try Self.requireUnique(databases.map(\.name), what: "database")
        try Self.checkCharacterSets(
            of: databases, field: { "instance.databases[\($0)]" }, rules: rules,
            catalog: try await catalog.characterSets(ofVersion: versionID))
        let databaseNames = Set(databases.map(\.name))
        let users = try (body.users ?? []).enumerated().map { index, user -> Instance.UserRequest in
            try Self.check(user.name, as: .user, on: rules)
            if let host = user.host {
                try UserHost.check(host, field: "instance.users[\(index)].host")
                try Self.check(network: host, field: "instance.users[\(index)].host", on: rules)
            }
            guard !user.password.isEmpty, user.password.count <= 128 else {
                throw TroveError.badRequest("The password of user \(user.name) must be 1 to 128 characters.")
            }
            let grants = (user.databases ?? []).map(\.name)
            for grant in grants where !databaseNames.contains(grant) {
                throw TroveError.badRequest("User \(user.name) is granted database \(grant), which is not among the instance's databases.")
            }
            return Instance.UserRequest(name: user.name, host: user.host ?? "%", password: Secret(user.password), databases: grants)
        }
        try Self.requireUnique(users.map { "\($0.name)@\($0.host)" }, what: "user")
        return Instance.CreateRequest(
            id: id, projectId: caller.projectID, name: name, flavorId: flavor.id, volumeSize: volume.size,
            datastore: datastore, databases: databases, users: users, configurationId: group?.id,
            configurationValues: group?.values, replicaOf: body.replicaOf, restoreFrom: backup?.id
        )
    }

    /// A replica's source: of this project, the same datastore and version, one that replicates (PostgreSQL),
    /// ACTIVE, neither a replica itself nor a cluster member; one replica per request.
    private func checkReplicaSource(_ id: String, datastore: Datastore, rules: any DatastoreDescriptor, count: Int?, caller: AuthContext) async throws
    {
        guard let source = try await reads.instance(id, project: caller.isAdmin ? nil : caller.projectID) else {
            throw TroveError.notFound("Instance \(id) (replica_of) could not be found.")
        }
        if let count, count != 1 {
            throw TroveError.badRequest("'instance.replica_count' must be 1 here: create one replica per request (\(count) asked).")
        }
        guard rules.clusterStrategy == .activePassive else {
            throw TroveError.badRequest("\(rules.displayName) instances have no replicas in this version of Cellar; PostgreSQL instances do.")
        }
        guard source.datastoreType == datastore.type, source.datastoreVersion == datastore.version else {
            throw TroveError.badRequest(
                "A replica runs its source's datastore: \(source.datastoreType) \(source.datastoreVersion), not \(datastore.type) \(datastore.version)."
            )
        }
        guard source.replicaOf == nil else {
            throw TroveError.badRequest("Instance \(id) is itself a replica of \(source.replicaOf ?? ""); create the replica from that source.")
        }
        guard source.clusterID == nil else {
            throw TroveError.badRequest("Instance \(id) is a member of cluster \(source.clusterID ?? ""); grow the cluster instead.")
        }
        guard source.status == "ACTIVE" else {
            throw TroveError.unprocessable("Instance \(id) is \(source.status); a replica needs an ACTIVE source.")
        }
    }

    func chooseDatastore(_ choice: CreateInstanceRequest.Body.DatastoreChoice?) async throws -> (Datastore, versionID: String) {
        let datastores = try await catalog.datastores()
        let entry: DatastoreEntry
        if let type = choice?.type {
            guard let found = datastores.first(where: { $0.name == type || $0.id == type }) else {
                throw TroveError.notFound("Datastore '\(type)' cannot be found; GET /datastores lists them.")
            }
            entry = found
        } else if let chosen = datastores.first(where: \.isDefault) ?? (datastores.count == 1 ? datastores.first : nil) {
            entry = chosen  // the operator's default datastore, as Trove's `default_datastore`
        } else {
            throw TroveError.badRequest(
                "Missing 'instance.datastore.type', and this deployment has no default datastore; "
                    + "choose one of: \(datastores.map(\.name).joined(separator: ", ")) (GET /datastores lists them).")
        }
        let versionName = choice?.version
        let version =
            entry.versions.first { $0.name == versionName || $0.id == versionName }
            ?? (versionName == nil ? entry.versions.first { $0.id == entry.defaultVersionID } : nil)
        guard let version else {
            throw TroveError.notFound("Datastore version '\(versionName ?? "default")' of \(entry.name) cannot be found.")
        }
        guard version.active else { throw TroveError.badRequest("Datastore version \(entry.name) \(version.name) is not active.") }
        return (Datastore(type: entry.name, version: version.name, manager: version.manager), version.id)
    }

    /// A server's `flavorRef` (one the catalog has) and `volume` (a size in range), checked where `field` is.
    static func flavorAndVolume(
        _ flavorRef: StringOrInt?, _ volume: CreateInstanceRequest.Body.Volume?, in field: String,
        catalog: OperatorCatalog
    ) async throws -> (Flavor, CreateInstanceRequest.Body.Volume) {
        guard let flavorRef = flavorRef?.value else { throw TroveError.badRequest("Missing '\(field).flavorRef'.") }
        guard let flavor = try await catalog.flavor(flavorRef) else {
            throw TroveError.badRequest("Flavor \(flavorRef) ('\(field).flavorRef') could not be found; GET /flavors lists them.")
        }
        guard let volume else { throw TroveError.badRequest("Missing '\(field).volume': give {\"size\": <GB>}.") }
        guard (1...maximumVolumeGB).contains(volume.size) else {
            throw TroveError.badRequest("'\(field).volume.size' must be between 1 and \(maximumVolumeGB) GB, not \(volume.size).")
        }
        return (flavor, volume)
    }

    /// The rules of `datastore`; a version whose manager this Cellar does not know cannot be used.
    static func rules(of datastore: Datastore) throws -> any DatastoreDescriptor {
        guard let rules = Datastores.descriptor(of: datastore) else {
            throw TroveError.badRequest(
                "Datastore \(datastore.type) \(datastore.version) runs on manager '\(datastore.manager ?? datastore.type)', which this Cellar does not have."
            )
        }
        return rules
    }

    /// The databases' character sets and collations against what the version's server offers (its catalog, when
    /// loaded; the guest refuses what slips through): a 400 naming the field and the datastore, nothing recorded.
    static func checkCharacterSets(
        of databases: [Instance.DatabaseSpec], field: (Int) -> String, rules: any DatastoreDescriptor,
        catalog: CharacterSetCatalog?
    ) throws {
        guard let catalog else { return }
        for (index, database) in databases.enumerated() {
            if let problem = rules.problem(characterSet: database.characterSet, collation: database.collate, in: catalog, field: field(index)) {
                throw TroveError.badRequest(problem)
            }
        }
    }

    /// A database or user name as the datastore takes it (400 with the reason otherwise).
    static func check(_ name: String, as kind: NamedObject, on rules: any DatastoreDescriptor) throws {
        if let problem = rules.problem(withName: name, of: kind) { throw TroveError.badRequest(problem) }
    }

    /// 400 when the datastore cannot match clients by `network` (a user's host or an allowed network).
    static func check(network: String, field: String, on rules: any DatastoreDescriptor) throws {
        if let problem = rules.problem(withNetwork: network, field: "'\(field)'") { throw TroveError.badRequest(problem) }
    }

    static func requireUnique(_ names: [String], what: String) throws {
        var seen: Set<String> = []
        for name in names where !seen.insert(name).inserted {
            throw TroveError.badRequest("The \(what) \(name) is listed twice.")
        }
    }
}
