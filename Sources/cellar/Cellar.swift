import ArgumentParser

/// The `cellar` executable: argument parsing and wiring only; the work lives in the library modules.
@main
struct Cellar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cellar",
        abstract: "Cellar: an event-sourced, Trove-compatible Database-as-a-Service.",
        subcommands: [Up.self, Api.self, Migrate.self, Events.self, IdentityCommand.self, DatastoreCommand.self, FlavorCommand.self, StatechartCommand.self, Bench.self,
                      TaskManagerCommand.self, ConductorCommand.self, GuestAgentCommand.self]
    )
}
