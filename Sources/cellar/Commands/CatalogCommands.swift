import ArgumentParser
import CellarCLI
import Logging
import ReadModels

/// `cellar datastore ...`: the datastores and versions users may choose.
struct DatastoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datastore", abstract: "Manage datastores and their versions (operator data).",
        subcommands: [List.self, AddVersion.self, SetDefault.self, LoadParameters.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List datastores and versions.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let datastores = try await database.withEventStore(logger: .cellar("cellar.catalog")) { _, client in
                try await OperatorCatalog(client: client, logger: .cellar("cellar.catalog")).datastores()
            }
            let rows = datastores.flatMap { datastore in
                datastore.versions.map { version in
                    let isDefault = datastore.isDefault && version.id == datastore.defaultVersionID
                    return [
                        version.datastoreName, version.name, version.version, version.manager, version.active ? "yes" : "no",
                        isDefault ? "yes" : (version.id == datastore.defaultVersionID ? "of \(datastore.name)" : ""), version.id,
                    ]
                }
            }
            print(TextTable.render(header: ["DATASTORE", "VERSION", "SERVER VERSION", "MANAGER", "ACTIVE", "DEFAULT", "ID"], rows: rows))
            if !datastores.contains(where: \.isDefault) {
                print("No default datastore: a create without a datastore is refused (cellar datastore set-default NAME).")
            }
        }
    }

    struct AddVersion: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-version", abstract: "Add or update a datastore version.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Datastore name, e.g. postgresql.") var datastore: String
        @Argument(help: "Version name users choose, e.g. 15.") var name: String
        @Option(help: "Exact server version (default: the name).") var serverVersion: String?
        @Option(help: "Guest manager that runs it.") var manager = "postgresql"
        @Flag(help: "Hide it from new instances.") var inactive = false

        func run() async throws {
            let (datastore, name, version, manager, active) = (self.datastore, self.name, serverVersion ?? self.name, self.manager, !inactive)
            try await database.withEventStore(logger: .cellar("cellar.catalog")) { _, client in
                try await OperatorCatalog(client: client, logger: .cellar("cellar.catalog"))
                    .upsertVersion(datastore: datastore, name: name, version: version, manager: manager, active: active)
            }
            print("\(datastore) \(name): saved")
        }
    }
}

extension DatastoreCommand {
    struct SetDefault: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-default",
            abstract: "Choose the datastore (and its default version) a create without a datastore gets, or --none.",
            discussion: "CELLAR_DEFAULT_DATASTORE (NAME, NAME:VERSION or none) sets it again each time the API starts.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Datastore name or id, e.g. mariadb.") var datastore: String?
        @Option(help: "That datastore's default version (name or id).") var version: String?
        @Flag(help: "No default: a create must name its datastore.") var none = false

        func validate() throws {
            guard (datastore == nil) == none else { throw ValidationError("give a datastore name, or --none") }
            guard !(none && version != nil) else { throw ValidationError("--version goes with a datastore, not with --none") }
        }

        func run() async throws {
            let (datastore, version) = (self.datastore, self.version)
            do {
                try await database.withEventStore(logger: .cellar("cellar.catalog")) { _, client in
                    try await OperatorCatalog(client: client, logger: .cellar("cellar.catalog")).setDefault(datastore: datastore, version: version)
                }
            } catch let error as CatalogError {
                throw ValidationError(error.description)
            }
            print(datastore.map { "default datastore: \($0)\(version.map { " \($0)" } ?? "")" } ?? "no default datastore")
        }
    }

    struct LoadParameters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load-parameters",
            abstract: "Read the configurable parameters of the PostgreSQL versions from a real (throw-away) server.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Load them again even where they were loaded.") var force = false

        func run() async throws {
            let force = self.force
            try await database.withEventStore(logger: .cellar("cellar.catalog")) { _, client in
                let catalog = OperatorCatalog(client: client, logger: .cellar("cellar.catalog"))
                let loaded = try await DatastoreParameterLoader.load(into: catalog, onlyMissing: !force, logger: .cellar("cellar.catalog"))
                for (version, count) in loaded { print("\(version.datastoreName) \(version.name): \(count) parameters") }
            }
        }
    }
}

/// `cellar flavor ...`: instance sizes.
struct FlavorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flavor", abstract: "Manage flavors (operator data).", subcommands: [List.self, Add.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List flavors.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let rows = try await database.withEventStore(logger: .cellar("cellar.catalog")) { _, client in
                try await OperatorCatalog(client: client, logger: .cellar("cellar.catalog")).flavors()
            }.map { [$0.id, $0.name, "\($0.ramMB)", "\($0.vcpus)", "\($0.diskGB)"] }
            print(TextTable.render(header: ["ID", "NAME", "RAM MB", "VCPUS", "DISK GB"], rows: rows))
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add or update a flavor.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Flavor id, e.g. 5.") var id: String
        @Argument(help: "Flavor name, e.g. db.xlarge.") var name: String
        @Option(help: "Memory in MB.") var ram: Int
        @Option(help: "Virtual CPUs.") var vcpus = 1
        @Option(help: "Disk in GB.") var disk = 0

        func validate() throws {
            guard ram > 0, vcpus > 0, disk >= 0 else { throw ValidationError("--ram and --vcpus must be positive, --disk not negative") }
        }

        func run() async throws {
            let flavor = Flavor(id: id, name: name, ramMB: ram, vcpus: vcpus, diskGB: disk)
            try await database.withEventStore(logger: .cellar("cellar.catalog")) { _, client in
                try await OperatorCatalog(client: client, logger: .cellar("cellar.catalog")).upsertFlavor(flavor)
            }
            print("flavor \(flavor.id) \(flavor.name): saved")
        }
    }
}
