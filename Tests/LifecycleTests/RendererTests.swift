import Foundation
import Lifecycle
import Testing

/// `cellar statechart render NAME --format mermaid|dot`: every state and transition appears.
@Suite("Renderers")
struct RendererTests {
    @Test("Mermaid shows every state, transition, initial and final", arguments: StatechartLibrary.chartNames)
    func mermaid(name: String) throws {
        let chart = try #require(try Charts.library[name])
        let text = chart.mermaid()
        let lines = Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        #expect(text.hasPrefix("stateDiagram-v2\n"))
        #expect(lines.contains("[*] --> \(chart.initial)"))
        for id in chart.stateIDs {
            let state = try #require(chart.state(id))
            switch state.kind {
            case .compound:
                #expect(lines.contains("state \(id) {"))
                #expect(lines.contains("[*] --> \(state.initial ?? "?")"))
            case .final:
                #expect(lines.contains("\(id) --> [*]"))
                #expect(lines.contains(chart.status(of: id).map { "\(id) : \($0)" } ?? id))
            case .atomic:
                #expect(lines.contains(chart.status(of: id).map { "\(id) : \($0)" } ?? id))
            }
        }
        // Mermaid puts a state in the block where it first appears: declarations come before transitions.
        let ordered = text.split(separator: "\n").map(String.init)
        let firstTransition = ordered.firstIndex { $0.contains(" --> ") && !$0.contains("[*]") } ?? 0
        #expect(!ordered[firstTransition...].contains { $0.hasPrefix("        ") })
        for edge in chart.edges {
            let label = edge.transition.cond.map { "\(edge.transition.event) [\($0)]" } ?? edge.transition.event
            #expect(lines.contains("\(edge.source) --> \(edge.transition.target) : \(label)"))
        }
        #expect(text.components(separatedBy: "{").count == text.components(separatedBy: "}").count)
    }

    @Test("DOT shows every state, cluster and labelled edge", arguments: StatechartLibrary.chartNames)
    func dot(name: String) throws {
        let chart = try #require(try Charts.library[name])
        let text = chart.dot()
        #expect(text.hasPrefix("digraph \"\(name)\" {"))
        #expect(text.contains("\"[*]\" -> \"\(chart.initial)\";"))
        for id in chart.stateIDs {
            let state = try #require(chart.state(id))
            switch state.kind {
            case .compound: #expect(text.contains("subgraph \"cluster_\(id)\" {"))
            case .final: #expect(text.contains("\"\(id)\" [shape=doublecircle"))
            case .atomic: #expect(text.contains("\"\(id)\" [label=\"\(id)"))
            }
        }
        for edge in chart.edges {
            let label = edge.transition.cond.map { "\(edge.transition.event) [\($0)]" } ?? edge.transition.event
            #expect(text.contains("\"\(edge.source)\" -> \"\(edge.transition.target)\" [label=\"\(label)\""))
        }
        #expect(text.components(separatedBy: "{").count == text.components(separatedBy: "}").count)
    }

    @Test(
        "Graphviz lays out every chart", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/dot")),
        arguments: StatechartLibrary.chartNames)
    func graphvizAccepts(name: String) throws {
        let chart = try #require(try Charts.library[name])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
        process.arguments = ["-Tsvg", "-o", "/dev/null"]
        let input = Pipe()
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data(chart.dot().utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "dot failed on the \(name) chart")
    }

    @Test("edges leaving a compound state are clipped at its cluster")
    func clusterClipping() throws {
        let text = try Charts.instance.dot()
        #expect(text.contains(#""busy" -> "error" [label="InstanceFailed", ltail="cluster_busy"];"#))
        #expect(text.contains(#""error" -> "building" [label="BuildRetryRequested [failedWhileBuilding]", lhead="cluster_building"];"#))
        #expect(text.contains(#""available" -> "configuring" [label="ConfigurationAttached"];"#))
    }
}
