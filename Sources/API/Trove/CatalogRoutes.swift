import APICore
import Hummingbird
import ReadModels

/// `{"datastores": [...]}` entries.
struct DatastoreView: Encodable {
    struct VersionRef: Encodable {
        var id: String
        var name: String
        var version: String
        var links: [Link]
    }
    var id: String
    var name: String
    var links: [Link]
    var defaultVersion: String?
    /// Cellar's extension: whether this is the operator's default datastore (a create without `datastore` gets it).
    var isDefault: Bool
    var versions: [VersionRef]
    enum CodingKeys: String, CodingKey {
        case id, name, links, versions
        case defaultVersion = "default_version"
        case isDefault = "default"
    }

    init(_ entry: DatastoreEntry, request: Request, project: String) {
        id = entry.id
        name = entry.name
        links = Link.resource(request, project: project, collection: "datastores", id: entry.id)
        defaultVersion = entry.defaultVersionID
        isDefault = entry.isDefault
        versions = entry.versions.filter(\.active).map {
            VersionRef(
                id: $0.id, name: $0.name, version: $0.version,
                links: Link.resource(request, project: project, collection: "datastores/versions", id: $0.id))
        }
    }
}

/// `{"versions": [...]}` / `{"version": {...}}` entries.
struct DatastoreVersionView: Encodable {
    var id: String
    var name: String
    var version: String
    var datastore: String
    var active: Bool
    var links: [Link]

    init(_ version: DatastoreVersion, request: Request, project: String) {
        id = version.id
        name = version.name
        self.version = version.version
        datastore = version.datastoreID
        active = version.active
        links = Link.resource(request, project: project, collection: "datastores/versions", id: version.id)
    }
}

/// `{"flavors": [...]}` entries (`id` is an integer when the id is one, as Trove writes it).
struct FlavorView: Encodable {
    var id: Int?
    var strID: String
    var name: String
    var ram: Int
    var vcpus: Int
    var disk: Int
    var ephemeral: Int
    var links: [Link]
    enum CodingKeys: String, CodingKey {
        case id, name, ram, vcpus, disk, ephemeral, links
        case strID = "str_id"
    }

    init(_ flavor: Flavor, request: Request, project: String) {
        id = Int(flavor.id)
        strID = flavor.id
        name = flavor.name
        ram = flavor.ramMB
        vcpus = flavor.vcpus
        disk = flavor.diskGB
        ephemeral = flavor.ephemeralGB
        links = Link.resource(request, project: project, collection: "flavors", id: flavor.id)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)  // null when the id is not an integer
        try container.encode(strID, forKey: .strID)
        try container.encode(name, forKey: .name)
        try container.encode(ram, forKey: .ram)
        try container.encode(vcpus, forKey: .vcpus)
        try container.encode(disk, forKey: .disk)
        try container.encode(ephemeral, forKey: .ephemeral)
        try container.encode(links, forKey: .links)
    }
}

extension TroveAPI {
    func registerCatalogRoutes(on routes: RouterGroup<CellarRequestContext>) {
        routes.get("datastores") { request, context in
            let project = try context.parameters.require("tenant")
            let views = try await catalog.datastores().map { DatastoreView($0, request: request, project: project) }
            return try JSONResponse.make(["datastores": views])
        }
        routes.get("datastores/:datastore") { request, context in
            let project = try context.parameters.require("tenant")
            let entry = try await datastore(context)
            return try JSONResponse.make(["datastore": DatastoreView(entry, request: request, project: project)])
        }
        routes.get("datastores/:datastore/versions") { request, context in
            let project = try context.parameters.require("tenant")
            let entry = try await datastore(context)
            return try JSONResponse.make(["versions": entry.versions.map { DatastoreVersionView($0, request: request, project: project) }])
        }
        routes.get("datastores/:datastore/versions/:version") { request, context in
            let project = try context.parameters.require("tenant")
            let entry = try await datastore(context)
            let wanted = try context.parameters.require("version")
            guard let version = entry.versions.first(where: { $0.id == wanted || $0.name == wanted }) else {
                throw TroveError.notFound("Datastore version '\(wanted)' of \(entry.name) cannot be found.")
            }
            return try JSONResponse.make(["version": DatastoreVersionView(version, request: request, project: project)])
        }
        routes.get("datastores/versions/:version") { request, context in
            let project = try context.parameters.require("tenant")
            let wanted = try context.parameters.require("version")
            guard let version = try await catalog.versions().first(where: { $0.id == wanted }) else {
                throw TroveError.notFound("Datastore version \(wanted) cannot be found.")
            }
            return try JSONResponse.make(["version": DatastoreVersionView(version, request: request, project: project)])
        }
        routes.get("flavors") { request, context in
            let project = try context.parameters.require("tenant")
            return try JSONResponse.make(["flavors": try await catalog.flavors().map { FlavorView($0, request: request, project: project) }])
        }
        routes.get("flavors/:flavor") { request, context in
            let project = try context.parameters.require("tenant")
            let wanted = try context.parameters.require("flavor")
            guard let flavor = try await catalog.flavor(wanted) else { throw TroveError.notFound("Flavor \(wanted) could not be found.") }
            return try JSONResponse.make(["flavor": FlavorView(flavor, request: request, project: project)])
        }
    }

    private func datastore(_ context: CellarRequestContext) async throws -> DatastoreEntry {
        let wanted = try context.parameters.require("datastore")
        guard let entry = try await catalog.datastore(wanted) else {
            throw TroveError.notFound("Datastore '\(wanted)' cannot be found.")
        }
        return entry
    }
}
