import Foundation

/// Where a local stack keeps its servers' data, ports and credentials.
///
/// PostgreSQL runs as an unprivileged OS user that cannot enter a mode-700 home folder, so the default lives
/// under `/var/tmp/cellar/`, one folder per clone (named after the clone's path), and `./.cellar` links to it.
public struct StateDirectory: Sendable {
    /// The folder itself.
    public let url: URL

    /// Uses `path` as given.
    public init(path: String) {
        self.url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
    }

    /// `$CELLAR_STATE_DIR` when set, else `/var/tmp/cellar/<clone>-<hash>` for the clone at `projectRoot`.
    public static func resolve(projectRoot: URL, environment: [String: String] = ProcessInfo.processInfo.environment) -> StateDirectory {
        if let path = environment["CELLAR_STATE_DIR"], !path.isEmpty { return StateDirectory(path: path) }
        let root = projectRoot.standardizedFileURL.path
        let safeName = String(projectRoot.lastPathComponent.map { $0.isLetter || $0.isNumber ? $0 : "-" })
        let name = "\(safeName)-\(stableHash(root))"
        return StateDirectory(path: "/var/tmp/cellar/\(name)")
    }

    /// Creates the folder (world-traversable, so the database OS user can reach its own subfolder).
    public func create() throws {
        let manager = FileManager.default
        try manager.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        var parent = url.deletingLastPathComponent()
        while parent.path.hasPrefix("/var/tmp/cellar") {
            try? manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: parent.path)
            parent = parent.deletingLastPathComponent()
        }
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    /// Points `<projectRoot>/.cellar` at this folder, unless something else already stands there.
    public func link(from projectRoot: URL) {
        let link = projectRoot.appendingPathComponent(".cellar").path
        let manager = FileManager.default
        if let existing = try? manager.destinationOfSymbolicLink(atPath: link) {
            if existing == url.path { return }
            try? manager.removeItem(atPath: link)
        } else if manager.fileExists(atPath: link) {
            return
        }
        try? manager.createSymbolicLink(atPath: link, withDestinationPath: url.path)
    }

    /// A subfolder of the state directory.
    public func subdirectory(_ name: String) -> URL { url.appendingPathComponent(name, isDirectory: true) }

    /// FNV-1a, printed as 8 hex digits: stable across runs (Swift's `hashValue` is seeded per process).
    static func stableHash(_ text: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return String(format: "%08x", hash)
    }
}
