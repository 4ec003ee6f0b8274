import Foundation

/// Drawing a chart as Graphviz DOT (backs `cellar statechart render NAME --format dot`).
extension Statechart {
    /// The chart as a Graphviz `digraph`: compound states as `subgraph cluster_X` holding a small anchor node
    /// (the end of transitions from or to the compound state, and the start of its dashed initial arrow),
    /// leaves labelled with their Trove status, final states as double circles, edges labelled `Event [cond]`.
    public func dot() -> String {
        var lines = [
            "digraph \(Self.quote(name)) {",
            "    compound=true;",
            "    rankdir=LR;",
            "    newrank=true;",
            "    node [shape=box, style=rounded, fontname=\"Helvetica\"];",
            "    edge [fontname=\"Helvetica\", fontsize=10];",
            "    \"[*]\" [shape=point, width=0.15];",
            "    \"[*]\" -> \(Self.quote(initial));",
        ]
        for state in states { appendDot(state, indent: "    ", into: &lines) }
        for edge in edges { lines.append("    " + dotEdge(edge)) }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private func appendDot(_ state: StatechartState, indent: String, into lines: inout [String]) {
        let id = Self.quote(state.id)
        switch state.kind {
        case .compound:
            let title = state.status.map { "\(state.id)\\n\($0)" } ?? state.id
            lines.append("\(indent)subgraph \(Self.quote("cluster_" + state.id)) {")
            lines.append("\(indent)    label=\"\(title)\";")
            lines.append("\(indent)    style=rounded;")
            lines.append("\(indent)    \(id) [shape=point, width=0.1];")
            if let initial = state.initial {
                lines.append("\(indent)    \(id) -> \(Self.quote(initial)) [style=dashed];")
            }
            for child in state.children { appendDot(child, indent: indent + "    ", into: &lines) }
            lines.append("\(indent)}")
        case .atomic:
            lines.append("\(indent)\(id) [label=\"\(leafLabel(state.id))\"];")
        case .final:
            lines.append("\(indent)\(id) [shape=doublecircle, label=\"\(leafLabel(state.id))\"];")
        }
    }

    private func leafLabel(_ id: String) -> String {
        status(of: id).map { "\(id)\\n\($0)" } ?? id
    }

    private func dotEdge(_ edge: StatechartEdge) -> String {
        let target = edge.transition.target
        var attributes = ["label=\(Self.quote(Self.label(edge.transition)))"]
        if state(edge.source)?.kind == .compound, !isDescendant(target, of: edge.source) {
            attributes.append("ltail=\(Self.quote("cluster_" + edge.source))")
        }
        if state(target)?.kind == .compound, !isDescendant(edge.source, of: target) {
            attributes.append("lhead=\(Self.quote("cluster_" + target))")
        }
        return "\(Self.quote(edge.source)) -> \(Self.quote(target)) [\(attributes.joined(separator: ", "))];"
    }

    private static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
