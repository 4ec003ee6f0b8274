import ArgumentParser
import CellarCLI
import Foundation
import LocalServers
import Logging

/// `cellar up`: the whole stack in one process, with a private PostgreSQL, RabbitMQ and OpenStack Swift (the
/// backup store) for each one not configured.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the local stack: PostgreSQL, RabbitMQ and Swift (unless configured), migrations, HTTP API."
    )

    @Option(help: "Address the HTTP server binds to.") var host = "127.0.0.1"
    @Option(help: "HTTP port (default: $CELLAR_API_PORT, else 8779, Trove's port).") var port: Int?
    @Option(help: "Where private servers keep their data (default: $CELLAR_STATE_DIR, else /var/tmp/cellar/<clone>-<hash>).")
    var stateDir: String?

    func run() async throws {
        let logger = Logger.cellar("cellar", defaultLevel: .info)
        let environment = ProcessInfo.processInfo.environment
        let root = try ProjectFiles.root()

        let configuredDatabase = environment["CELLAR_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let configuredBroker = environment["CELLAR_AMQP_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let configuredStore = environment["CELLAR_BACKUP_STORE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        var privateServers: LocalStack.Servers = []
        if configuredDatabase == nil { privateServers.insert(.postgres) }
        if configuredBroker == nil { privateServers.insert(.rabbitMQ) }
        if configuredStore == nil { privateServers.insert(.objectStore) }

        var stack: LocalStack?
        if !privateServers.isEmpty {
            let state = stateDir.map(StateDirectory.init(path:)) ?? StateDirectory.resolve(projectRoot: root)
            let created = try LocalStack(stateDirectory: state)
            state.link(from: root)
            say("Starting private \(privateServers) in \(state.url.path) ...")
            try await created.startInBackground(privateServers, logger: logger)
            stack = created
        }
        guard let databaseURL = configuredDatabase ?? stack?.postgres.url, let amqpURL = configuredBroker ?? stack?.rabbitMQ.url else {
            preconditionFailure("a private server is started for every URL not configured")
        }
        do {
            let port = self.port ?? environment["CELLAR_API_PORT"].flatMap(Int.init) ?? 8779
            try await ReadableError.translating {
                var controlPlane = ControlPlaneSettings.fromEnvironment(stateDirectory: stack?.stateDirectory.url)
                if controlPlane.brokerManagementURL == nil, configuredBroker == nil {
                    controlPlane.brokerManagementURL = stack?.rabbitMQ.managementURL
                }
                if configuredStore == nil { controlPlane.backupStoreURL = stack?.objectStore.url }
                var server = APIServer(
                    databaseURL: databaseURL, amqpURL: amqpURL, host: host, port: port, root: root,
                    stateDirectory: stack?.stateDirectory.url, logger: logger, controlPlane: controlPlane)
                server.shutdownOverdue = { [stack, privateServers] in
                    FileHandle.standardError.write(Data("cellar: services did not stop in time; stopping the servers and exiting\n".utf8))
                    stack?.stop(privateServers)
                    Foundation.exit(1)
                }
                try await server.run()
            }
        } catch {
            await stack?.stopInBackground(privateServers)
            throw error
        }
        if let stack {
            say("Stopping private servers ...")
            await stack.stopInBackground(privateServers)
        }
    }
}
