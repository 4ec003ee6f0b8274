import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A private OpenStack Swift from Debian's packages, where backups are kept: a proxy (tempauth, TempURL, `s3api`)
/// over one account, one container and one object server on one device, and a memcached for the proxy's tokens.
///
/// Every daemon listens on 127.0.0.1 only and runs as the stack's server user when started by root, so no
/// instance's OS user reaches the store's files. Debian ships no `swift-init` and no
/// init scripts work without systemd here: each daemon is started in the background and stopped by its PID file.
public struct SwiftStoreServer: Sendable {
    /// Configuration, rings, the device folder, logs and PID files.
    public let directory: URL
    /// The proxy's port; the account, container and object servers and memcached take the four after it.
    public let ports: Ports
    /// `swift_hash_path_prefix`/`suffix`: chosen once, kept (changing them loses every object).
    public let hashSecret: String
    /// The one tempauth user's key (account `cellar`, user `service`, an admin of its account).
    public let serviceKey: String
    /// The OS user the daemons run as when we are root.
    public let osUser: String?

    public struct Ports: Sendable, Codable, Equatable {
        public var proxy: Int
        public var account: Int
        public var container: Int
        public var object: Int
        public var memcached: Int

        public init(proxy: Int, account: Int, container: Int, object: Int, memcached: Int) {
            (self.proxy, self.account, self.container, self.object, self.memcached) = (proxy, account, container, object, memcached)
        }
    }

    public init(directory: URL, ports: Ports, hashSecret: String, serviceKey: String, osUser: String?) {
        self.directory = directory
        self.ports = ports
        self.hashSecret = hashSecret
        self.serviceKey = serviceKey
        self.osUser = osUser
    }

    /// The tempauth user, `account:user`.
    public static let serviceUser = "cellar:service"

    /// Where Cellar finds the store: tempauth's v1 endpoint with the service user's credentials
    /// (`CELLAR_BACKUP_STORE_URL`'s form for a Swift with tempauth).
    public var url: String {
        "swift+http://\(Self.serviceUser.replacingOccurrences(of: ":", with: "%3A")):\(serviceKey)@127.0.0.1:\(ports.proxy)/auth/v1.0"
    }

    enum Daemon: String, CaseIterable {
        case account, container, object, proxy
    }

    var devices: URL { directory.appendingPathComponent("devices") }
    func pidFile(_ name: String) -> URL { directory.appendingPathComponent("\(name).pid") }
    func configurationFile(_ daemon: Daemon) -> URL { directory.appendingPathComponent("\(daemon.rawValue)-server.conf") }

    /// Starts memcached and the four daemons unless the proxy already answers; returns once it does.
    public func start(logger: Logger) throws {
        if isHealthy() {
            logger.info("reusing running object store", metadata: ["port": "\(ports.proxy)"])
            return
        }
        stop()
        let owner = try osUser.map(Self.ids(of:))
        let manager = FileManager.default
        for folder in [directory, devices, devices.appendingPathComponent("d1")] {
            try manager.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if let owner { chown(folder.path, owner.uid, owner.gid) }
        }
        try writePrivateFile(Data(hashConfiguration.utf8), to: directory.appendingPathComponent("swift.conf"), owner: owner)
        for daemon in Daemon.allCases {
            try writePrivateFile(Data(configuration(of: daemon).utf8), to: configurationFile(daemon), owner: owner)
        }
        try buildRings(owner: owner)
        try launch("memcached", ["/usr/bin/memcached", "-l", "127.0.0.1", "-p", "\(ports.memcached)", "-U", "0", "-m", "32"])
        for daemon in Daemon.allCases {
            try launch(daemon.rawValue, ["/usr/bin/swift-\(daemon.rawValue)-server", configurationFile(daemon).path])
        }
        let deadline = Date().addingTimeInterval(60)
        while !isHealthy() {
            guard Date() < deadline else {
                let log = (try? String(contentsOf: directory.appendingPathComponent("proxy.log"), encoding: .utf8)) ?? ""
                stop()
                throw CommandFailure(command: "swift-proxy-server", status: 1, output: "the object store did not answer: \(log.suffix(1500))")
            }
            usleep(100_000)
        }
        logger.info("started the object store (OpenStack Swift)", metadata: ["port": "\(ports.proxy)"])
    }

    /// Stops every daemon by its PID file (SIGTERM, then SIGKILL after five seconds); safe to call twice.
    public func stop() {
        for name in ["proxy", "object", "container", "account", "memcached"] {
            guard let pid = runningPID(name) else { continue }
            ProcessStatus.terminate(pid: pid, timeout: 5)
        }
    }

    /// Every daemon listens and the proxy answers its health check (which does not ask the servers behind it).
    public func isHealthy() -> Bool {
        guard [ports.account, ports.container, ports.object, ports.memcached, ports.proxy].allSatisfy(Loopback.isListening(port:)) else {
            return false
        }
        let output = try? CommandRunner.run(
            "/usr/bin/curl", ["-s", "-m", "2", "http://127.0.0.1:\(ports.proxy)/healthcheck"], allowFailure: true)
        guard output == "OK" else { return false }
        // Ready means a login works (tempauth and memcached answer), not only that the proxy listens. The key goes
        // through stdin, never onto a command line another local user could read.
        let login = try? CommandRunner.run(
            "/usr/bin/curl", ["-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "-H", "@-", "http://127.0.0.1:\(ports.proxy)/auth/v1.0"],
            input: Data("X-Auth-User: \(Self.serviceUser)\nX-Auth-Key: \(serviceKey)\n".utf8), allowFailure: true)
        return login == "200"
    }

    /// The PID of a running daemon (`proxy`, `object`, ..., `memcached`).
    public func runningPID(_ name: String) -> Int32? { Self.runningPID(of: pidFile(name)) }

    /// The PID of the proxy running from the store folder `directory`.
    static func runningProxy(in directory: URL) -> Int32? { runningPID(of: directory.appendingPathComponent("proxy.pid")) }

    private static func runningPID(of pidFile: URL) -> Int32? {
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), ProcessStatus.isAlive(pid: pid)
        else { return nil }
        return pid
    }

    /// Starts `command` in the background, in its own session, as the server user (`setpriv` execs it: the PID is
    /// the daemon's), its output to `<name>.log`, its PID to `<name>.pid`.
    private func launch(_ name: String, _ daemon: [String]) throws {
        let log = directory.appendingPathComponent("\(name).log").path
        let command = osUser.map { ["/usr/bin/setpriv", "--reuid=\($0)", "--regid=\($0)", "--init-groups", "--"] + daemon } ?? daemon
        let pid = try CommandRunner.run(
            "/bin/sh",
            ["-c", "cd \"$1\" || exit 1; shift 2; setsid \"$@\" >> \"$0\" 2>&1 < /dev/null & echo $!", log, directory.path, "--"] + command)
        try Data(pid.utf8).write(to: pidFile(name))
    }

    /// One ring per server kind, one device each, one replica (a single machine: copies would share its disk).
    private func buildRings(owner: (uid: uid_t, gid: gid_t)?) throws {
        for (kind, port) in [("account", ports.account), ("container", ports.container), ("object", ports.object)] {
            let ring = directory.appendingPathComponent("\(kind).ring.gz")
            guard !FileManager.default.fileExists(atPath: ring.path) else { continue }
            let builder = directory.appendingPathComponent("\(kind).builder").path
            try CommandRunner.run("/usr/bin/swift-ring-builder", [builder, "create", "10", "1", "1"])
            try CommandRunner.run("/usr/bin/swift-ring-builder", [builder, "add", "r1z1-127.0.0.1:\(port)/d1", "100"])
            try CommandRunner.run("/usr/bin/swift-ring-builder", [builder, "rebalance"])
            if let owner { chown(ring.path, owner.uid, owner.gid) }
        }
    }

    private var hashConfiguration: String {
        """
        [swift-hash]
        swift_hash_path_prefix = \(hashSecret)
        swift_hash_path_suffix = \(hashSecret)

        [storage-policy:0]
        name = default
        default = yes

        """
    }

    /// A daemon's configuration: loopback, one worker, the stack's folder for everything.
    func configuration(of daemon: Daemon) -> String {
        let port =
            switch daemon {
            case .account: ports.account
            case .container: ports.container
            case .object: ports.object
            case .proxy: ports.proxy
            }
        let common = """
            [DEFAULT]
            bind_ip = 127.0.0.1
            bind_port = \(port)
            workers = 0
            swift_dir = \(directory.path)
            devices = \(devices.path)
            mount_check = false
            user = \(osUser ?? NSUserName())
            log_name = swift-\(daemon.rawValue)

            """
        guard daemon == .proxy else {
            return common + """
                [pipeline:main]
                pipeline = \(daemon.rawValue)-server

                [app:\(daemon.rawValue)-server]
                use = egg:swift#\(daemon.rawValue)

                """
        }
        // tempauth keeps its tokens in memcached; TempURL lets a guest write or read one backup's objects and
        // nothing else, without any credential of the account; s3api serves the same objects over S3.
        return common + """
            [pipeline:main]
            pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempurl s3api tempauth copy slo dlo proxy-logging proxy-server

            [app:proxy-server]
            use = egg:swift#proxy
            account_autocreate = true

            [filter:tempauth]
            use = egg:swift#tempauth
            user_cellar_service = \(serviceKey) .admin

            [filter:tempurl]
            use = egg:swift#tempurl
            methods = GET HEAD PUT

            [filter:s3api]
            use = egg:swift#s3api

            [filter:cache]
            use = egg:swift#memcache
            memcache_servers = 127.0.0.1:\(ports.memcached)

            [filter:catch_errors]
            use = egg:swift#catch_errors

            [filter:gatekeeper]
            use = egg:swift#gatekeeper

            [filter:healthcheck]
            use = egg:swift#healthcheck

            [filter:proxy-logging]
            use = egg:swift#proxy_logging

            [filter:listing_formats]
            use = egg:swift#listing_formats

            [filter:copy]
            use = egg:swift#copy

            [filter:slo]
            use = egg:swift#slo

            [filter:dlo]
            use = egg:swift#dlo

            """
    }

    static func ids(of user: String) throws -> (uid: uid_t, gid: gid_t) {
        guard let entry = getpwnam(user) else { throw CommandFailure(command: "getpwnam \(user)", status: 1, output: "no such user") }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }
}
