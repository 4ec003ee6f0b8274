import Foundation
import LocalServers

#if canImport(Glibc)
import Glibc
#endif

/// The OS user an instance's guest agent and servers run as: the boundary between tenants on one machine, as a
/// hypervisor is between VMs. A tenant may hold root in its database (a PostgreSQL superuser runs programs with
/// `COPY ... PROGRAM`, MariaDB root writes files), so whatever runs there runs as this user and reaches only its
/// own folders. One user per isolation group: a standalone instance, or a whole cluster (its members copy every
/// byte to each other anyway, and Galera's state transfers log in as the server's OS user on every member).
public struct InstanceUser: Sendable, Equatable {
    public var name: String
    public var uid: uid_t
    public var gid: gid_t

    /// `cellar-` and the group id's first 24 hex digits (a name may have 32 characters); an id with fewer (not
    /// a UUID) by its bytes in hex.
    public static func name(forGroup id: String) -> String {
        let digits = id.lowercased().filter { $0.isHexDigit }
        let tail = digits.count >= 24 ? String(digits.prefix(24)) : String(id.utf8.map { String(format: "%02x", $0) }.joined().prefix(24))
        return "cellar-" + tail
    }

    /// True for a user this driver made (`cellar-` and hex digits), never root or another system user.
    static func isInstanceUser(_ user: InstanceUser) -> Bool {
        user.uid != 0 && user.name.hasPrefix("cellar-") && user.name.dropFirst(7).count >= 12 && user.name.dropFirst(7).allSatisfy(\.isHexDigit)
    }

    /// The instance user that owns `path` (nil: missing, or owned by anyone else: root, `cellar-db`, ...).
    public static func owning(_ path: String) -> InstanceUser? {
        owner(of: path).flatMap { isInstanceUser($0) ? $0 : nil }
    }

    /// The user of that name, if the system has it.
    public static func lookup(_ name: String) -> InstanceUser? {
        guard let entry = getpwnam(name) else { return nil }
        return InstanceUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    /// The user that owns `path` (nil when it is missing or its owner has no name).
    public static func owner(of path: String) -> InstanceUser? {
        var info = stat()
        guard lstat(path, &info) == 0, let entry = getpwuid(info.st_uid) else { return nil }
        return InstanceUser(name: String(cString: entry.pointee.pw_name), uid: info.st_uid, gid: info.st_gid)
    }

    /// The user, created when missing: no login, no home, a group of its own. Needs root.
    static func ensure(_ name: String) throws -> InstanceUser {
        if let user = lookup(name) { return user }
        do {
            try CommandRunner.run(
                "/usr/sbin/useradd",
                [
                    "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                    "--shell", "/usr/sbin/nologin", "--comment", "Cellar instance", name,
                ])
        } catch {
            if lookup(name) == nil { throw ComputeError("cannot create the OS user \(name): \(error)") }
        }
        guard let user = lookup(name) else { throw ComputeError("the OS user \(name) was created but cannot be found") }
        return user
    }

    /// Ends every process of the user (whatever a tenant started, under any name), then removes the user and its group.
    public func remove() {
        let deadline = Date().addingTimeInterval(5)
        var remaining = processes()
        while !remaining.isEmpty && Date() < deadline {
            for pid in remaining { kill(pid, SIGKILL) }
            usleep(20_000)
            remaining = processes()
        }
        _ = try? CommandRunner.run("/usr/sbin/userdel", [name], allowFailure: true)
    }

    /// Live processes whose real user is this one.
    public func processes() -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            var info = stat()
            return stat("/proc/\(pid)", &info) == 0 && info.st_uid == uid && ProcessStatus.isAlive(pid: pid)
        }
    }
}
