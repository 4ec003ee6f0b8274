import Foundation
import Logging

/// A private RabbitMQ node with its own epmd, both on loopback only.
///
/// The Debian wrappers in /usr/sbin switch to the `rabbitmq` user and lose our HOME (and so the Erlang cookie),
/// so the real scripts in /usr/lib/rabbitmq/bin are called, with the same environment for server and CLI.
public struct RabbitMQServer: Sendable {
    /// Folder holding mnesia, logs, the cookie (HOME) and the pid file.
    public let directory: URL
    /// AMQP port on 127.0.0.1.
    public let amqpPort: Int
    /// Erlang distribution port (must be set: the default NODE_PORT+20000 overflows for high ports).
    public let distributionPort: Int
    /// A private epmd port, so stacks never share (or kill) each other's epmd.
    public let epmdPort: Int
    /// Erlang node name, unique per stack.
    public let nodeName: String
    /// The broker's only user: made by the node itself on its first boot (`default_user`), so `guest`, whose
    /// well-known password any local process could use, never exists.
    public let user: String
    /// Its password (generated once, kept in `stack.json`, mode 600).
    public let password: String
    /// The management plugin's HTTP port on 127.0.0.1: Cellar makes a broker user per guest through it.
    public let managementPort: Int

    /// Creates the description of a node; starts nothing.
    public init(
        directory: URL, amqpPort: Int, distributionPort: Int, epmdPort: Int, nodeName: String, user: String, password: String,
        managementPort: Int
    ) {
        self.directory = directory
        self.amqpPort = amqpPort
        self.distributionPort = distributionPort
        self.epmdPort = epmdPort
        self.nodeName = nodeName
        self.user = user
        self.password = password
        self.managementPort = managementPort
    }

    static let scripts = "/usr/lib/rabbitmq/bin"

    var pidFile: URL { directory.appendingPathComponent("rabbit.pid") }

    /// Connection URL, with the stack's own user.
    public var url: String { "amqp://\(user):\(password)@127.0.0.1:\(amqpPort)/%2F" }

    /// The management API, with the stack's user (`http://user:password@127.0.0.1:port`).
    public var managementURL: String { "http://\(user):\(password)@127.0.0.1:\(managementPort)" }

    /// `rabbitmq.conf`: the first boot creates our user instead of `guest`; the management API on loopback only.
    var configuration: String {
        """
        management.tcp.ip = 127.0.0.1
        management.tcp.port = \(managementPort)
        default_user = \(user)
        default_pass = \(password)
        default_permissions.configure = .*
        default_permissions.read = .*
        default_permissions.write = .*
        default_user_tags.administrator = true

        """
    }

    var environment: [String: String] {
        [
            "HOME": directory.path,
            "ERL_EPMD_PORT": "\(epmdPort)",
            "RABBITMQ_NODENAME": nodeName,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": "\(amqpPort)",
            "RABBITMQ_DIST_PORT": "\(distributionPort)",
            "RABBITMQ_MNESIA_BASE": directory.appendingPathComponent("mnesia").path,
            "RABBITMQ_LOG_BASE": directory.appendingPathComponent("log").path,
            "RABBITMQ_PID_FILE": pidFile.path,
            "RABBITMQ_ENABLED_PLUGINS_FILE": directory.appendingPathComponent("enabled_plugins").path,
            "RABBITMQ_CONF_ENV_FILE": directory.appendingPathComponent("rabbitmq-env.conf").path,
            "RABBITMQ_CONFIG_FILE": directory.appendingPathComponent("rabbitmq.conf").path,
            "RABBITMQ_ADVANCED_CONFIG_FILE": directory.appendingPathComponent("advanced.config").path,
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        ]
    }

    /// PID of the running beam process, if any.
    public var runningPID: Int32? { Self.runningPID(pidFile: pidFile) }

    static func runningPID(pidFile: URL) -> Int32? {
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            ProcessStatus.isAlive(pid: pid)
        else { return nil }
        return pid
    }

    /// Starts epmd and the node unless the node already runs; returns once the broker accepts connections.
    public func start(logger: Logger) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if runningPID != nil, Loopback.isListening(port: amqpPort) {
            logger.info("reusing running RabbitMQ", metadata: ["port": "\(amqpPort)"])
            return
        }
        try Data("[rabbitmq_management].\n".utf8).write(to: directory.appendingPathComponent("enabled_plugins"))
        let configFile = directory.appendingPathComponent("rabbitmq.conf")
        try writePrivateFile(Data(configuration.utf8), to: configFile)
        let firstBoot = !FileManager.default.fileExists(atPath: directory.appendingPathComponent("mnesia").path)
        try CommandRunner.run("/usr/bin/epmd", ["-address", "127.0.0.1", "-port", "\(epmdPort)", "-daemon"], environment: environment)
        // Started from its own folder: Erlang writes crash dumps (MnesiaCore.*, erl_crash.dump) into the cwd.
        try CommandRunner.run(
            "/bin/sh", ["-c", "cd \"$1\" && exec \"$2\" -detached", "sh", directory.path, "\(Self.scripts)/rabbitmq-server"],
            environment: environment)
        // `wait <pidfile>` blocks until the node has booted (await_startup fails before epmd registration).
        try CommandRunner.run("\(Self.scripts)/rabbitmqctl", ["-n", nodeName, "wait", pidFile.path, "--timeout", "120"], environment: environment)
        if !firstBoot { try replaceGuestUser() }
        logger.info("started RabbitMQ", metadata: ["port": "\(amqpPort)"])
    }

    /// A queue as the broker reports it.
    public struct QueueReport: Sendable, Equatable {
        public var name: String
        /// Messages ready or unacknowledged.
        public var messages: Int
        public var consumers: Int
    }

    /// Every queue of the node with its depth and consumers (`rabbitmqctl list_queues`; for operators and tests).
    public func queues() throws -> [QueueReport] {
        let output = try CommandRunner.run(
            "\(Self.scripts)/rabbitmqctl", ["-n", nodeName, "-q", "--no-table-headers", "list_queues", "name", "messages", "consumers"],
            environment: environment)
        return output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t")
            guard fields.count == 3, let messages = Int(fields[1]), let consumers = Int(fields[2]) else { return nil }
            return QueueReport(name: String(fields[0]), messages: messages, consumers: consumers)
        }
    }

    /// The names of the node's users.
    public func users() throws -> Set<String> {
        let output = try CommandRunner.run(
            "\(Self.scripts)/rabbitmqctl", ["-n", nodeName, "-q", "--no-table-headers", "list_users"], environment: environment)
        return Set(output.split(separator: "\n").compactMap { $0.split(separator: "\t").first.map(String.init) })
    }

    /// A node first booted before it had its own user still has `guest`: add ours, drop `guest`.
    private func replaceGuestUser() throws {
        let ctl = "\(Self.scripts)/rabbitmqctl"
        let names = try users()
        guard names.contains("guest") || !names.contains(user) else { return }
        if !names.contains(user) {
            // The password goes through the environment and stdin, never on a command line.
            try CommandRunner.run(
                "/bin/sh", ["-c", "printf '%s\\n' \"$CELLAR_BROKER_PASSWORD\" | \"$1\" -n \"$2\" add_user \"$3\"", "sh", ctl, nodeName, user],
                environment: environment.merging(["CELLAR_BROKER_PASSWORD": password]) { _, new in new })
            try CommandRunner.run(ctl, ["-n", nodeName, "set_permissions", "-p", "/", user, ".*", ".*", ".*"], environment: environment)
        }
        if names.contains("guest") { try CommandRunner.run(ctl, ["-n", nodeName, "delete_user", "guest"], environment: environment) }
    }

    /// Stops the node (SIGTERM gives a clean shutdown in about a second) and then its epmd.
    public func stop() {
        if let pid = runningPID { ProcessStatus.terminate(pid: pid, timeout: 30) }
        _ = try? CommandRunner.run("/usr/bin/epmd", ["-port", "\(epmdPort)", "-kill"], environment: environment, allowFailure: true)
    }
}
