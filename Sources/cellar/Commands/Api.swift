import ArgumentParser
import CellarCLI
import Foundation
import Logging

/// `cellar api`: the HTTP API, projections and relay against existing PostgreSQL and RabbitMQ servers.
struct Api: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Trove API (with identity, projections and the event relay) against configured servers."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var broker: BrokerOptions
    @Option(help: "Address the HTTP server binds to.") var host = "127.0.0.1"
    @Option(help: "HTTP port (default: $CELLAR_API_PORT, else 8779).") var port: Int?

    func run() async throws {
        let logger = Logger.cellar("cellar", defaultLevel: .info)
        let port = self.port ?? ProcessInfo.processInfo.environment["CELLAR_API_PORT"].flatMap(Int.init) ?? 8779
        try await ReadableError.translating {
            try await APIServer(
                databaseURL: try database.resolvedURL(), amqpURL: try broker.resolvedURL(), host: host, port: port,
                root: try ProjectFiles.root(), stateDirectory: nil, logger: logger
            ).run()
        }
    }
}
