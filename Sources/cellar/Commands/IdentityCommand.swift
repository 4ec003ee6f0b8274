import ArgumentParser
import CellarCLI
import Foundation
import Identity
import Logging

/// `cellar identity ...`: projects and users of the built-in identity service.
struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Manage projects and users of the built-in identity service.",
        subcommands: [ProjectCommand.self, UserCommand.self, RoleCommand.self]
    )

    /// Runs `body` with an identity store on the configured database.
    static func withStore<T: Sendable>(_ database: DatabaseOptions, _ body: @Sendable @escaping (IdentityStore) async throws -> T) async throws -> T {
        let logger = Logger.cellar("cellar.identity")
        return try await database.withEventStore(logger: logger) { _, client in
            try await body(IdentityStore(client: client, logger: logger))
        }
    }
}

/// `cellar identity project create|list`.
struct ProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project", abstract: "Create and list projects.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a project.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The project's name (unique).") var name: String
        @Option(help: "Free text.") var description = ""

        func run() async throws {
            let (name, description) = (self.name, self.description)
            let project = try await IdentityCommand.withStore(database) { try await $0.createProject(name: name, description: description) }
            print("created project \(project.name) (\(project.id))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List projects.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let projects = try await IdentityCommand.withStore(database) { try await $0.projects() }
            printTable(
                ["ID", "NAME", "ENABLED", "DESCRIPTION"],
                projects.map { [$0.id, $0.name, $0.enabled ? "yes" : "no", $0.description] })
        }
    }
}

/// `cellar identity user create|list|password`.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Create and list users, set passwords.", subcommands: [Create.self, List.self, Password.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user with roles on a project.",
            discussion: "Without --password-stdin a strong password is generated and printed once.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user's name (unique).") var name: String
        @Option(help: "The user's default project, where the roles are given.") var project: String
        @Option(name: .customLong("role"), help: "A role on the project: admin, member or reader (repeatable; default: member).")
        var roles: [String] = []
        @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false

        func run() async throws {
            let password = try passwordStdin ? readPassword() : SecureRandom.password()
            let (name, project, roles) = (self.name, self.project, self.roles.isEmpty ? ["member"] : self.roles)
            let user = try await IdentityCommand.withStore(database) { store in
                try await store.createUser(name: name, password: password, defaultProject: project, roles: roles)
            }
            print("created user \(user.name) (\(user.id)) with \(roles.joined(separator: ", ")) on \(project)")
            if !passwordStdin { print("password: \(password)   (shown once: keep it now)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (users, projects) = try await IdentityCommand.withStore(database) { store in
                (try await store.users(), try await store.projects())
            }
            let projectNames = Dictionary(projects.map { ($0.id, $0.name) }) { first, _ in first }
            printTable(
                ["ID", "NAME", "DEFAULT PROJECT", "ENABLED"],
                users.map { user in
                    [user.id, user.name, user.defaultProjectID.map { projectNames[$0] ?? $0 } ?? "-", user.enabled ? "yes" : "no"]
                })
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "password", abstract: "Set a user's password.",
            discussion: "Without --password-stdin a strong password is generated and printed once.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user's name or id.") var name: String
        @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false

        func run() async throws {
            let password = try passwordStdin ? readPassword() : SecureRandom.password()
            let name = self.name
            try await IdentityCommand.withStore(database) { try await $0.setPassword(user: name, password: password) }
            print("password of \(name) changed")
            if !passwordStdin { print("password: \(password)   (shown once: keep it now)") }
        }
    }
}

/// `cellar identity role add`.
struct RoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "role", abstract: "Give users roles on projects.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a user a role on a project.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user's name or id.") var user: String
        @Option(help: "The project's name or id.") var project: String
        @Option(help: "admin, member or reader.") var role: String

        func run() async throws {
            let (user, project, role) = (self.user, self.project, self.role)
            try await IdentityCommand.withStore(database) { try await $0.assignRole(role, user: user, project: project) }
            print("\(user) has role \(role) on \(project)")
        }
    }
}

/// The first line of standard input, as a password (never a command-line argument, which `ps` would show).
private func readPassword() throws -> String {
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw NoPassword()
    }
    return line
}

/// `--password-stdin` found nothing to read.
private struct NoPassword: Error, CustomStringConvertible {
    var description: String { "--password-stdin: standard input has no password on its first line" }
}

/// Prints rows under a header, in columns as wide as their widest cell.
private func printTable(_ header: [String], _ rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    for row in all {
        let cells = row.enumerated().map { column, cell in
            column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }
        print(cells.joined(separator: "  "))
    }
}
