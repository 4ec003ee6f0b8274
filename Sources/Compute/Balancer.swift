import Foundation

/// A cluster's load balancer as the task manager asks for it: where it listens, how it spreads new
/// connections, and the members behind it with the port where each member's guest answers health checks.
public struct BalancerRequest: Sendable, Equatable {
    /// The cluster id (the balancer's folder is `cluster-<id>`).
    public var clusterID: String
    /// The cluster's own address.
    public var address: String
    /// The client port (the datastore's standard port).
    public var port: Int
    /// `roundrobin` or `leastconn`.
    public var algorithm: String
    /// The members it sends to.
    public var backends: [Backend]
    /// Active-passive: the port of the read-only endpoint over the replicas; `port` then takes the primary only.
    /// Nil: one endpoint over every member that is ready (active-active).
    public var readOnlyPort: Int?

    /// A member behind the balancer.
    public struct Backend: Sendable, Equatable {
        /// The member's instance id (HAProxy's server name).
        public var id: String
        /// The member's address.
        public var address: String
        /// Its datastore's port.
        public var port: Int
        /// The port of its guest's HTTP health check (200: may take clients).
        public var checkPort: Int

        /// Creates a backend.
        public init(id: String, address: String, port: Int, checkPort: Int) {
            self.id = id
            self.address = address
            self.port = port
            self.checkPort = checkPort
        }
    }

    /// Creates a request.
    public init(clusterID: String, address: String, port: Int, algorithm: String, backends: [Backend], readOnlyPort: Int? = nil) {
        self.readOnlyPort = readOnlyPort
        self.clusterID = clusterID
        self.address = address
        self.port = port
        self.algorithm = algorithm
        self.backends = backends
    }
}

/// One member as the balancer sees it now (HAProxy's `show stat`).
public struct BalancerBackendState: Sendable, Equatable {
    /// The member's instance id.
    public var id: String
    /// `UP`, `DOWN`, `MAINT`, ... as HAProxy says.
    public var status: String
    /// Connections open to it now.
    public var currentSessions: Int
    /// Connections it took since the balancer started.
    public var totalSessions: Int

    /// Creates a state.
    public init(id: String, status: String, currentSessions: Int, totalSessions: Int) {
        self.id = id
        self.status = status
        self.currentSessions = currentSessions
        self.totalSessions = totalSessions
    }
}

/// HAProxy's configuration and statistics, as text: pure, so it is tested without a process.
public enum HAProxy {
    static let executable = "/usr/sbin/haproxy"

    /// The configuration of one cluster's balancer: TCP, the algorithm, an HTTP health check on each member's
    /// guest (a member is out after two failed checks a second apart, or at the first connection its server
    /// refuses, and back after two good checks), and sessions to a member that goes down closed at once so
    /// clients reconnect to a healthy one.
    public static func configuration(_ request: BalancerRequest, statsSocket: String, stateFile: String) -> String {
        var lines = [
            "global",
            "    maxconn 4096",
            "    stats socket \(statsSocket) mode 600 level admin",
            // A reload keeps each member's checked state (saved just before it): an unchecked member counts as up.
            "    server-state-file \(stateFile)",
            "",
            "defaults",
            "    mode tcp",
            "    load-server-state-from-file global",
            "    timeout connect 3s",
            "    timeout client 8h",
            "    timeout server 8h",
            "    timeout check 2s",
            "",
        ]
        func servers() -> [String] {
            request.backends.map { "    server \($0.id) \($0.address):\($0.port) check addr \($0.address) port \($0.checkPort)" }
        }
        if let readOnlyPort = request.readOnlyPort {
            // Read-write: the one member whose guest says it is the writable primary, checked four times a
            // second; the others (and a member going down) ten times a second, so a promotion is followed within
            // 0.1 s. A primary whose server refuses a connection is out at once.
            lines +=
                [
                    "listen cluster",
                    "    bind \(request.address):\(request.port)",
                    "    option httpchk GET /primary",
                    "    timeout check 400ms",
                    // A refused connection fails at once (HAProxy would wait a second per retry): the client's own
                    // retry then finds the new primary as soon as its check passes.
                    "    retries 0",
                    "    default-server inter 250ms fastinter 100ms downinter 100ms fall 2 rise 1 on-marked-down shutdown-sessions observe layer4 error-limit 1 on-error mark-down",
                ] + servers() + [
                    "",
                    "listen replicas",
                    "    bind \(request.address):\(readOnlyPort)",
                    "    balance \(request.algorithm)",
                    "    option httpchk GET /replica",
                    "    default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions",
                ] + servers()
        } else {
            lines +=
                [
                    "listen cluster",
                    "    bind \(request.address):\(request.port)",
                    "    balance \(request.algorithm)",
                    "    option httpchk GET /",
                    // A member whose server refuses a connection is out at once (not after two checks), and that
                    // connection is sent to another member: a crash costs new sessions nothing.
                    "    option redispatch",
                    "    retries 1",
                    "    default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions observe layer4 error-limit 1 on-error mark-down",
                ] + servers()
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The process id of the worker that answered `show info` (its `Pid: N` line).
    public static func workerPID(fromInfo info: String) -> Int32? {
        info.split(separator: "\n").lazy.compactMap { line -> Int32? in
            guard line.hasPrefix("Pid:") else { return nil }
            return Int32(line.dropFirst(4).trimmingCharacters(in: .whitespaces))
        }.first
    }

    /// Whether a member of any proxy in `show stat` has not been checked yet (`check_status` `INI`): HAProxy
    /// counts an unchecked member as up, so a fresh balancer is trusted only once every member was checked.
    public static func checksPending(fromStats csv: String) -> Bool {
        let lines = csv.split(separator: "\n").map(String.init)
        guard let header = lines.first(where: { $0.hasPrefix("# ") }) else { return true }
        let columns = header.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let server = columns.firstIndex(of: "svname"), let check = columns.firstIndex(of: "check_status") else { return true }
        return lines.filter { !$0.hasPrefix("#") }.contains { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count > max(server, check), fields[server] != "FRONTEND", fields[server] != "BACKEND" else { return false }
            return fields[check].isEmpty || fields[check].hasPrefix("INI")
        }
    }

    /// The members' rows of `show stat` (CSV with a `# pxname,svname,...` header), for the `cluster` proxy.
    public static func backendStates(fromStats csv: String) -> [BalancerBackendState] {
        let lines = csv.split(separator: "\n").map(String.init)
        guard let header = lines.first(where: { $0.hasPrefix("# ") }) else { return [] }
        let columns = header.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        func index(_ name: String) -> Int? { columns.firstIndex(of: name) }
        guard let proxy = index("pxname"), let server = index("svname"), let status = index("status"),
            let current = index("scur"), let total = index("stot")
        else { return [] }
        return lines.filter { !$0.hasPrefix("#") }.compactMap { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count > max(proxy, server, status, current, total), fields[proxy] == "cluster",
                fields[server] != "FRONTEND", fields[server] != "BACKEND"
            else { return nil }
            return BalancerBackendState(
                id: fields[server], status: fields[status],
                currentSessions: Int(fields[current]) ?? 0, totalSessions: Int(fields[total]) ?? 0)
        }
    }
}
