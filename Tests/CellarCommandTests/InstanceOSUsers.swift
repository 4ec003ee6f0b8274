import Compute
import Foundation
import LocalServers

/// The OS users the process driver gives instances (it runs as root in these tests): commands run as one, as a
/// tenant's code in its database would, and the users a test's instances had are removed with them.
enum InstanceOSUsers {
    /// The owner of an instance folder, when it is an instance's own user (`cellar-<hex>`).
    static func owner(of folder: URL) -> InstanceUser? { InstanceUser.owning(folder.path) }

    /// `executable arguments` as the OS user owning `folder` (setpriv, no supplementary groups).
    static func command(_ executable: String, _ arguments: [String], asOwnerOf folder: URL) throws -> (String, [String]) {
        guard let user = owner(of: folder) else { throw Failure("\(folder.path) belongs to no instance user") }
        return ("/usr/bin/setpriv", ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--", executable] + arguments)
    }

    /// Ends every process of the users owning the folders in `instancesDirectory` and removes those users.
    static func removeUsers(of instancesDirectory: URL) {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: instancesDirectory.path)) ?? []
        var users: [String: InstanceUser] = [:]
        for folder in folders { if let user = owner(of: instancesDirectory.appendingPathComponent(folder)) { users[user.name] = user } }
        for user in users.values { user.remove() }
    }
}
