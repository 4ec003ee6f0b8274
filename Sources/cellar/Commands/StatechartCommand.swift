import ArgumentParser
import CellarCLI
import Lifecycle

/// `cellar statechart render NAME --format mermaid|dot`: draws a lifecycle chart.
struct StatechartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statechart",
        abstract: "Inspect the lifecycle statecharts in statecharts/.",
        subcommands: [Render.self]
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case mermaid, dot
    }

    struct Render: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a chart as Mermaid (stateDiagram-v2) or Graphviz DOT.")

        @Argument(help: "Chart name: instance, backup or cluster.") var name: String
        @Option(help: "Output format: mermaid or dot.") var format: Format = .mermaid

        func run() throws {
            let library = try StatechartLibrary.load(directory: ProjectFiles.statecharts())
            guard let chart = library[name] else {
                throw ValidationError("no chart named \(name); charts: \(StatechartLibrary.chartNames.joined(separator: ", "))")
            }
            switch format {
            case .mermaid: print(chart.mermaid())
            case .dot: print(chart.dot())
            }
        }
    }
}
