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

    static let scripts = "/usr/lib/rabbitmq/bin"

    var pidFile: URL { directory.appendingPathComponent("rabbit.pid") }

    /// Connection URL (the `guest` user, which RabbitMQ admits from loopback only).
    public var url: String { "amqp://guest:guest@127.0.0.1:\(amqpPort)/%2F" }

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
            "RABBITMQ_CONFIG_FILE": directory.appendingPathComponent("rabbitmq").path,
            "RABBITMQ_ADVANCED_CONFIG_FILE": directory.appendingPathComponent("advanced.config").path,
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        ]
    }

    /// PID of the running beam process, if any.
    public var runningPID: Int32? { Self.runningPID(pidFile: pidFile) }

    static func runningPID(pidFile: URL) -> Int32? {
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              ProcessStatus.isAlive(pid: pid) else { return nil }
        return pid
    }

    /// Starts epmd and the node unless the node already runs; returns once the broker accepts connections.
    public func start(logger: Logger) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if runningPID != nil, Loopback.isListening(port: amqpPort) {
            logger.info("reusing running RabbitMQ", metadata: ["port": "\(amqpPort)"])
            return
        }
        try CommandRunner.run("/usr/bin/epmd", ["-address", "127.0.0.1", "-port", "\(epmdPort)", "-daemon"], environment: environment)
        // Started from its own folder: Erlang writes crash dumps (MnesiaCore.*, erl_crash.dump) into the cwd.
        try CommandRunner.run("/bin/sh", ["-c", "cd \"$1\" && exec \"$2\" -detached", "sh", directory.path, "\(Self.scripts)/rabbitmq-server"],
                              environment: environment)
        // `wait <pidfile>` blocks until the node has booted (await_startup fails before epmd registration).
        try CommandRunner.run("\(Self.scripts)/rabbitmqctl", ["-n", nodeName, "wait", pidFile.path, "--timeout", "120"], environment: environment)
        logger.info("started RabbitMQ", metadata: ["port": "\(amqpPort)"])
    }

    /// Stops the node (SIGTERM gives a clean shutdown in about a second) and then its epmd.
    public func stop() {
        if let pid = runningPID { ProcessStatus.terminate(pid: pid, timeout: 30) }
        _ = try? CommandRunner.run("/usr/bin/epmd", ["-port", "\(epmdPort)", "-kill"], environment: environment, allowFailure: true)
    }
}
