import Foundation

/// Finds the project's data folders (`migrations/`, `statecharts/`) at run time.
///
/// Looks at `$CELLAR_HOME`, then the current folder and its parents, then the executable's folder and its
/// parents (so `swift run` and `.build/debug/cellar` work from anywhere inside a clone).
public enum ProjectFiles {
    public struct NotFound: Error, CustomStringConvertible {
        public var description: String {
            "cannot find Cellar's migrations/ and statecharts/ folders; run from inside the clone or set CELLAR_HOME"
        }
    }

    public static func root() throws -> URL {
        var candidates: [URL] = []
        if let home = ProcessInfo.processInfo.environment["CELLAR_HOME"], !home.isEmpty {
            candidates.append(URL(fileURLWithPath: home))
        }
        candidates += ancestors(of: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        candidates += ancestors(of: URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        for candidate in candidates where isProjectRoot(candidate) { return candidate.standardizedFileURL }
        throw NotFound()
    }

    public static func migrations() throws -> URL { try root().appendingPathComponent("migrations", isDirectory: true) }
    public static func statecharts() throws -> URL { try root().appendingPathComponent("statecharts", isDirectory: true) }

    private static func isProjectRoot(_ url: URL) -> Bool {
        let manager = FileManager.default
        return manager.fileExists(atPath: url.appendingPathComponent("migrations").path)
            && manager.fileExists(atPath: url.appendingPathComponent("statecharts").path)
    }

    private static func ancestors(of url: URL) -> [URL] {
        var result: [URL] = []
        var current = url.standardizedFileURL
        while true {
            result.append(current)
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { return result }
            current = parent
        }
    }
}
