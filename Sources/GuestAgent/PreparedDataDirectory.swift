import Foundation
import LocalServers

#if canImport(Glibc)
import Glibc
#endif

/// A datastore's freshly initialized data directory, made once per host and server version and copied for each
/// new instance: a copy of a few tens of megabytes is several times faster than `initdb` or
/// `mariadb-install-db`, which is most of an instance's build.
///
/// The compute driver makes it (`ensure`), before any guest of that datastore starts: as the templates' own OS
/// user when it runs as root, so every instance's user can read it and none can change what later instances
/// start from. Makers running at once each initialize into a folder of their own and rename it into place; the
/// first rename wins. A guest only copies it (`copy`), as itself; without one it initializes from nothing.
struct PreparedDataDirectory {
    /// Where prepared directories are kept (`<instances root>/.prepared`).
    let folder: URL
    /// Which one, e.g. `postgresql-15`.
    let name: String

    init(in folder: URL, name: String) {
        self.folder = folder
        self.name = name
    }

    /// The one in `.prepared/` beside an instance's folder (in the compute driver's root).
    init(beside instanceDirectory: URL, name: String) {
        self.init(in: instanceDirectory.deletingLastPathComponent().appendingPathComponent(".prepared"), name: name)
    }

    var path: URL { folder.appendingPathComponent(name, isDirectory: true) }

    /// The prepared directory, when one was made.
    var existing: URL? { FileManager.default.fileExists(atPath: path.appendingPathComponent(".complete").path) ? path : nil }

    /// Makes the prepared directory when missing: `initialize` fills an empty folder owned by `osUser` (nil: this
    /// process's user), then everything in it is made readable by all and the folder renamed into place.
    func ensure(osUser: String?, _ initialize: (URL) throws -> Void) throws {
        let manager = FileManager.default
        if existing != nil { return }
        try manager.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let scratch = folder.appendingPathComponent(".\(name)-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
        defer { try? manager.removeItem(at: scratch) }
        try manager.createDirectory(at: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        if let osUser { try manager.setAttributes([.ownerAccountName: osUser, .groupOwnerAccountName: osUser], ofItemAtPath: scratch.path) }
        try initialize(scratch)
        // Nothing in it is secret (no password is set yet); its owner alone may change it.
        try CommandRunner.run("/bin/chmod", ["-R", "go+rX,go-w", scratch.path])
        try Data().write(to: scratch.appendingPathComponent(".complete"))
        if rename(scratch.path, path.path) != 0, existing == nil {
            // One left by an older Cellar (unmarked, private to its owner) is replaced.
            try? manager.removeItem(at: path)
            guard rename(scratch.path, path.path) == 0 || existing != nil else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path.path])
            }
        }
    }

    /// Copies the prepared directory's contents into `data` (an empty directory of this process's user), private
    /// to that user again.
    func copy(_ prepared: URL, into data: URL) throws {
        try CommandRunner.run("/bin/cp", ["-R", "--preserve=mode,timestamps", prepared.path + "/.", data.path])
        try? FileManager.default.removeItem(at: data.appendingPathComponent(".complete"))
        try CommandRunner.run("/bin/chmod", ["-R", "go-rwx", data.path])
    }
}
