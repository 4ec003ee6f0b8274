import Foundation
import LocalServers

/// A datastore's freshly initialized data directory, made once per host and server version and copied for each
/// new instance: a copy of a few tens of megabytes is several times faster than `initdb` or
/// `mariadb-install-db`, which is most of an instance's build.
///
/// Guests building at once may both find it missing: each initializes into a folder of its own and renames it
/// into place; the first rename wins and the others' work is removed. A copy is made as the database OS user, so
/// the instance's files are that user's.
struct PreparedDataDirectory {
    /// Where prepared directories are kept (beside the instance folders).
    let folder: URL
    /// Which one, e.g. `postgresql-15`.
    let name: String
    let osUser: String?

    /// The one in `.prepared/` beside an instance's folder (in the compute driver's root).
    init(beside instanceDirectory: URL, name: String, osUser: String?) {
        folder = instanceDirectory.deletingLastPathComponent().appendingPathComponent(".prepared")
        self.name = name
        self.osUser = osUser
    }

    var path: URL { folder.appendingPathComponent(name, isDirectory: true) }

    /// The prepared directory, made by `initialize` (given an empty folder) when missing.
    func ensure(_ initialize: (URL) throws -> Void) throws -> URL {
        let manager = FileManager.default
        if manager.fileExists(atPath: path.path) { return path }
        try manager.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        try own(folder)
        let scratch = folder.appendingPathComponent(".\(name)-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
        defer { try? manager.removeItem(at: scratch) }
        try manager.createDirectory(at: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try own(scratch)
        try initialize(scratch)
        if rename(scratch.path, path.path) != 0, !manager.fileExists(atPath: path.path) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path.path])
        }
        return path
    }

    /// Copies the prepared directory's contents into `data` (an empty directory of the database OS user).
    func copy(_ prepared: URL, into data: URL) throws {
        try CommandRunner.run("/bin/cp", ["-a", prepared.path + "/.", data.path], asUser: osUser)
    }

    private func own(_ url: URL) throws {
        guard let osUser else { return }
        try FileManager.default.setAttributes([.ownerAccountName: osUser, .groupOwnerAccountName: osUser], ofItemAtPath: url.path)
    }
}
