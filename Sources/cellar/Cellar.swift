import ArgumentParser
import Benchmarks

#if canImport(Glibc)
import Glibc
#endif

/// The `cellar` executable: argument parsing and wiring only; the work lives in the library modules.
@main
struct Cellar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cellar",
        abstract: "Cellar: an event-sourced, Trove-compatible Database-as-a-Service.",
        subcommands: [
            Up.self, Api.self, Migrate.self, Events.self, IdentityCommand.self, DatastoreCommand.self, FlavorCommand.self, StatechartCommand.self,
            Bench.self,
            TaskManagerCommand.self, ConductorCommand.self, GuestAgentCommand.self,
        ]
    )

    /// A child that exits before reading all its input (a `mariadb` client refused at login) must be an error
    /// of that call, not SIGPIPE ending a guest agent or the control plane.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
