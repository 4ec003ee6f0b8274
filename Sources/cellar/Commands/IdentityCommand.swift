import ArgumentParser

/// `cellar identity ...`: projects and users of the built-in identity service.
struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Manage projects and users of the built-in identity service.",
        subcommands: []
    )
}
