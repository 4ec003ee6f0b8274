import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Small loopback helpers: free ports and reachability checks.
public enum Loopback {
    /// Asks the kernel for a currently free TCP port on 127.0.0.1.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = loopbackAddress(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// True when something accepts TCP connections on 127.0.0.1:`port`.
    public static func isListening(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopbackAddress(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }

    /// True when the TCP port can be bound on `host` (an address of 127.0.0.0/8 by default 127.0.0.1) right now.
    public static func isFree(port: Int, host: String = "127.0.0.1") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = loopbackAddress(port: port, host: host)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func loopbackAddress(port: Int, host: String = "127.0.0.1") -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        return address
    }
}

/// Process liveness by PID.
public enum ProcessStatus {
    /// True when a process with this PID exists and is not a zombie.
    public static func isAlive(pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 else { return false }
        // PID 1 may reap orphans late; a zombie still answers kill(0), so look at its state.
        guard let state = statFields(of: pid)?.first else { return true }
        return state != "Z"
    }

    /// The fields of `/proc/<pid>/stat` after the command's closing parenthesis: `<state> <ppid> ...` (nil: no
    /// such process).
    static func statFields(of pid: Int32) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return nil
        }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// The PIDs in `/proc`.
    static func processIDs() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
    }

    /// Sends SIGTERM and waits up to `timeout` seconds for the process to go, then SIGKILL.
    public static func terminate(pid: Int32, timeout: TimeInterval) {
        guard isAlive(pid: pid) else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while isAlive(pid: pid) && Date() < deadline { usleep(50_000) }
        if isAlive(pid: pid) { kill(pid, SIGKILL) }
    }
}

extension ProcessStatus {
    /// Returns when the process exits, at once (the kernel says so through a pidfd, no polling), or when `limit`
    /// passes; true when it exited. Blocks its thread: run it on a dedicated one.
    public static func waitForExit(pid: Int32, limit: Duration) -> Bool {
        let descriptor = clinux_pidfd_open(pid)
        guard descriptor >= 0 else { return !isAlive(pid: pid) }  // gone already (or no pidfd: say what is known)
        defer { close(descriptor) }
        // poll() waits forever for a negative timeout: a limit already past is a check, not a wait.
        let milliseconds = max(0, Int32(clamping: limit.components.seconds * 1000 + limit.components.attoseconds / 1_000_000_000_000_000))
        return clinux_wait_readable(descriptor, milliseconds) == 1
    }

    /// PIDs of live processes whose command line contains `marker` (e.g. an instance's folder).
    public static func processes(commandLineContaining marker: String) -> [Int32] {
        processIDs().filter { pid in
            pid != getpid() && commandLine(of: pid)?.contains(marker) == true && isAlive(pid: pid)
        }
    }

    /// PIDs of the live descendants of `pid` (children, their children, ...), from each process's parent in
    /// `/proc/<pid>/stat`.
    public static func descendants(of pid: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for child in processIDs() {
            if let fields = statFields(of: child), fields.count > 1, let parent = Int32(fields[1]) {
                children[parent, default: []].append(child)
            }
        }
        var found: [Int32] = []
        var frontier = [pid]
        while let next = frontier.popLast() {
            let direct = children[next] ?? []
            found += direct
            frontier += direct
        }
        return found.filter { isAlive(pid: $0) }
    }

    /// Kills a process and every descendant at once, as a crash of their machine would: all are stopped first, so
    /// none sees another die, then killed.
    public static func killTree(of pid: Int32) {
        let tree = [pid] + descendants(of: pid)
        for member in tree { kill(member, SIGSTOP) }
        for member in tree { kill(member, SIGKILL) }
    }

    /// The process's command line with its arguments separated by spaces (nil: no such process).
    public static func commandLine(of pid: Int32) -> String? {
        guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !raw.isEmpty else { return nil }
        return String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
    }
}
