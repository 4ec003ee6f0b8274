import Foundation
import Testing

/// The module map of `docs/architecture.md` as a test: every `import` of a Cellar module in `Sources/` must be an
/// edge the map allows, and `Lifecycle` imports nothing but Foundation.
@Suite("Module map")
struct ModuleMapTests {
    /// What each module may import among Cellar's own modules. The executable's side may import all: `cellar`
    /// (argument parsing and wiring), `CellarCLI` (what its commands and the benchmarks share) and `Benchmarks`
    /// (it imports what it measures); no other module may import those three.
    static let executableSide: Set<String> = ["cellar", "CellarCLI", "Benchmarks"]
    static let allowed: [String: Set<String>] = [
        "Lifecycle": [],
        "GuestProtocol": ["Lifecycle"],
        "EventStore": ["Lifecycle"],
        "CRabbitMQ": [],
        "Bus": ["CRabbitMQ", "EventStore"],
        "ReadModels": ["EventStore", "Lifecycle"],
        "CLinux": [],
        "LocalServers": ["CLinux"],
        "Secrets": [],
        "ObjectStore": [],
        "Compute": ["LocalServers"],
        // Lifecycle too: the guest protocol's bodies are Lifecycle's values (a database spec, a datastore), and the
        // guest checks names and values with the datastore's descriptor, the same pure rules the API uses.
        "GuestAgent": ["GuestProtocol", "Bus", "LocalServers", "Secrets", "Lifecycle", "ObjectStore"],
        "TaskManager": ["Lifecycle", "GuestProtocol", "EventStore", "Bus", "Compute", "ReadModels", "Secrets", "ObjectStore"],
        "Conductor": ["Lifecycle", "GuestProtocol", "EventStore", "Bus"],
        // The request context, the caller, Trove's error bodies and the input gate, shared by the API and the
        // identity service, which must not import each other.
        "APICore": [],
        "API": ["APICore", "Lifecycle", "EventStore", "ReadModels", "Secrets"],
        "Identity": ["APICore", "EventStore", "Secrets"],
    ]
    /// Edges that exist and the map does not allow yet, each to be removed (the test fails once one is gone, so
    /// this list stays true).
    static let knownDrift: [String: Set<String>] = [:]

    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// The Cellar modules each module's files import, from their `import` lines.
    static func imports() throws -> [String: Set<String>] {
        let modules = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { !$0.hasPrefix(".") }
        var found: [String: Set<String>] = [:]
        for module in modules {
            let folder = sources.appendingPathComponent(module)
            guard let files = FileManager.default.enumerator(atPath: folder.path) else { continue }
            var imported: Set<String> = []
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let words = line.split(separator: " ")
                    guard let index = words.firstIndex(of: "import"), words[..<index].allSatisfy({ $0.hasPrefix("@") }),
                        index + 1 < words.count
                    else { continue }
                    imported.insert(String(words[index + 1]))
                }
            }
            found[module] = imported.intersection(modules)
        }
        return found
    }

    @Test("every import between Cellar's modules is an edge of the map; the known drift is still there")
    func edges() throws {
        let found = try Self.imports()
        #expect(Set(found.keys).isSuperset(of: Self.allowed.keys), "a module of the map is gone: \(found.keys.sorted())")
        for (module, imported) in found.sorted(by: { $0.key < $1.key }) where !Self.executableSide.contains(module) {
            let allowed = try #require(Self.allowed[module], "module \(module) is not on the map: add it to docs/architecture.md and here")
            let unexpected = imported.subtracting(allowed).subtracting(Self.knownDrift[module] ?? [])
            #expect(unexpected.isEmpty, "\(module) imports \(unexpected.sorted()), which the map does not allow")
            let fixed = (Self.knownDrift[module] ?? []).subtracting(imported)
            #expect(fixed.isEmpty, "\(module) no longer imports \(fixed.sorted()): remove it from knownDrift")
        }
    }

    @Test("Lifecycle, the pure core, imports only Foundation")
    func pureCore() throws {
        let folder = Self.sources.appendingPathComponent("Lifecycle")
        let files = try #require(FileManager.default.enumerator(atPath: folder.path))
        for case let file as String in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                #expect(["import Foundation", "import FoundationXML"].contains(String(line)), "\(file): \(line)")
            }
        }
    }
}
