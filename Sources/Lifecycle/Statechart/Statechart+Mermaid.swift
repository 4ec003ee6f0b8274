/// Drawing a chart as a Mermaid `stateDiagram-v2` (backs `cellar statechart render NAME --format mermaid`).
extension Statechart {
    /// The chart as Mermaid: compound states as `state X { ... }` with `[*] -->` to their initial child, leaves
    /// labelled with the Trove status they show, final states `--> [*]`, transitions labelled `Event [cond]`.
    ///
    /// Every state is declared in its own block before any transition mentions it (Mermaid places a state
    /// in the block where it first appears), and transitions are listed at the top level after all blocks.
    public func mermaid() -> String {
        var lines = ["stateDiagram-v2"]
        appendMermaidBlock(states, initial: initial, indent: "    ", into: &lines)
        for edge in edges {
            lines.append("    \(edge.source) --> \(edge.transition.target) : \(Self.label(edge.transition))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func appendMermaidBlock(
        _ block: [StatechartState], initial: String?, indent: String, into lines: inout [String]
    ) {
        for state in block {
            switch state.kind {
            case .compound:
                lines.append("\(indent)state \(state.id) {")
                appendMermaidBlock(state.children, initial: state.initial, indent: indent + "    ", into: &lines)
                lines.append("\(indent)}")
            case .atomic, .final:
                lines.append(status(of: state.id).map { "\(indent)\(state.id) : \($0)" } ?? "\(indent)\(state.id)")
            }
        }
        if let initial { lines.append("\(indent)[*] --> \(initial)") }
        for state in block where state.kind == .final {
            lines.append("\(indent)\(state.id) --> [*]")
        }
    }

    /// `Event` or `Event [cond]`.
    static func label(_ transition: StatechartTransition) -> String {
        transition.cond.map { "\(transition.event) [\($0)]" } ?? transition.event
    }
}
