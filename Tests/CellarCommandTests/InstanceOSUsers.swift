import Foundation
import LocalServers
#if canImport(Glibc)
import Glibc
#endif

/// The OS users the process driver gives instances (it runs as root in these tests): commands run as one, as a
/// tenant's code in its database would, and the users a test's instances had are removed with them.
enum InstanceOSUsers {
    /// The owner of an instance folder, when it is an instance's own user (`cellar-<hex>`).
    static func owner(of folder: URL) -> (name: String, uid: uid_t, gid: gid_t)? {
        var info = stat()
        guard lstat(folder.path, &info) == 0, info.st_uid != 0, let entry = getpwuid(info.st_uid) else { return nil }
        let name = String(cString: entry.pointee.pw_name)
        guard name.hasPrefix("cellar-"), name.dropFirst(7).count >= 12, name.dropFirst(7).allSatisfy(\.isHexDigit) else { return nil }
        return (name, info.st_uid, info.st_gid)
    }

    /// `executable arguments` as the OS user owning `folder` (setpriv, no supplementary groups).
    static func command(_ executable: String, _ arguments: [String], asOwnerOf folder: URL) throws -> (String, [String]) {
        guard let user = owner(of: folder) else { throw Failure("\(folder.path) belongs to no instance user") }
        return ("/usr/bin/setpriv", ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--", executable] + arguments)
    }

    /// Kills every process of the users owning the folders in `instancesDirectory` and removes those users.
    static func removeUsers(of instancesDirectory: URL) {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: instancesDirectory.path)) ?? []
        var users: [String: uid_t] = [:]
        for folder in folders { if let user = owner(of: instancesDirectory.appendingPathComponent(folder)) { users[user.name] = user.uid } }
        for (name, uid) in users {
            for pid in processes(of: uid) { kill(pid, SIGKILL) }
            Thread.sleep(forTimeInterval: 0.2)
            _ = try? CommandRunner.run("/usr/sbin/userdel", [name], allowFailure: true)
        }
    }

    private static func processes(of uid: uid_t) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            var info = stat()
            return stat("/proc/\(pid)", &info) == 0 && info.st_uid == uid
        }
    }
}
