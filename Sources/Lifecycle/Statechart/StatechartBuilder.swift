/// Turns parsed SCXML elements into a `Statechart`, refusing anything outside the supported subset.
struct StatechartBuilder {
    static let scxmlNamespace = "http://www.w3.org/2005/07/scxml"
    static let cellarNamespace = "urn:cellar:statechart"

    let source: String

    func build(_ root: SCXMLElement) throws -> Statechart {
        guard root.name == "scxml", root.namespace == Self.scxmlNamespace else {
            throw error(root, "the root element must be <scxml xmlns=\"\(Self.scxmlNamespace)\">, found \(root.tag)")
        }
        try checkAttributes(root, allowed: ["name", "initial", "version"], cellar: [])
        guard let name = root.attribute("name"), isName(name) else {
            throw error(root, "<scxml> needs a name=\"...\" attribute (letters, digits, _ or -)")
        }
        if let version = root.attribute("version"), version != "1.0" {
            throw error(root, "<scxml> version must be \"1.0\", found \"\(version)\"")
        }
        let states = try root.children.map { try state($0, in: "scxml") }
        guard let first = states.first else { throw error(root, "<scxml name=\"\(name)\"> has no states") }
        let initial = root.attribute("initial") ?? first.id
        let chart = Statechart(name: name, source: source, initial: initial, states: states)
        try validate(chart, root: root)
        return chart
    }

    private func state(_ element: SCXMLElement, in parent: String) throws -> StatechartState {
        guard element.namespace == Self.scxmlNamespace else {
            throw error(element, "\(element.tag) in \(parent) is not an SCXML element (namespace \(element.namespace ?? "none"))")
        }
        switch element.name {
        case "state":
            try checkAttributes(element, allowed: ["id", "initial"], cellar: ["status"])
        case "final":
            try checkAttributes(element, allowed: ["id"], cellar: ["status"])
        default:
            throw error(element, "\(element.tag) in \(parent) is not supported; expected <state> or <final>")
        }
        guard let id = element.attribute("id"), isName(id) else {
            throw error(element, "\(element.tag) in \(parent) needs an id=\"...\" (letters, digits, _ or -)")
        }
        let status = element.attribute("status", namespace: Self.cellarNamespace)
        if let status, !isName(status) {
            throw error(element, "\(element.tag): cellar:status \"\(status)\" is not a status name")
        }
        var transitions: [StatechartTransition] = []
        var children: [StatechartState] = []
        for child in element.children {
            if child.name == "transition", child.namespace == Self.scxmlNamespace {
                transitions.append(try transition(child, in: id))
            } else {
                children.append(try state(child, in: "state \"\(id)\""))
            }
        }
        if element.name == "final" {
            guard transitions.isEmpty, children.isEmpty else {
                throw error(element, "final state \"\(id)\" cannot have transitions or children")
            }
            return StatechartState(
                id: id, kind: .final, initial: nil, status: status, transitions: [], children: [], line: element.line)
        }
        let declaredInitial = element.attribute("initial")
        if children.isEmpty, let declaredInitial {
            throw error(element, "state \"\(id)\" declares initial=\"\(declaredInitial)\" but has no child states")
        }
        return StatechartState(
            id: id, kind: children.isEmpty ? .atomic : .compound,
            initial: children.isEmpty ? nil : (declaredInitial ?? children[0].id),
            status: status, transitions: transitions, children: children, line: element.line)
    }

    private func transition(_ element: SCXMLElement, in state: String) throws -> StatechartTransition {
        let context = "\(element.tag) in state \"\(state)\""
        try checkAttributes(element, allowed: ["event", "target", "cond"], cellar: [])
        guard element.children.isEmpty else {
            throw error(element, "\(context) cannot have children (executable content is not supported)")
        }
        guard let event = element.attribute("event"), isName(event) else {
            throw error(element, "\(context) needs event=\"...\" naming exactly one event")
        }
        guard let target = element.attribute("target"), isName(target) else {
            throw error(element, "\(context) needs target=\"...\" naming exactly one state")
        }
        let cond = element.attribute("cond")
        if let cond, !isName(cond) {
            throw error(element, "\(context): cond \"\(cond)\" must be a single guard name")
        }
        return StatechartTransition(event: event, target: target, cond: cond)
    }

    /// Whole-chart checks: unique ids, existing targets, initials that are descendants.
    private func validate(_ chart: Statechart, root: SCXMLElement) throws {
        var seen: [String: Int] = [:]
        func visit(_ state: StatechartState) throws {
            if let line = seen[state.id] {
                throw StatechartLoadError(
                    source: source, line: state.line,
                    message: "duplicate state id \"\(state.id)\" (first declared on line \(line))")
            }
            seen[state.id] = state.line
            for child in state.children { try visit(child) }
        }
        for state in chart.states { try visit(state) }

        if chart.nodes[chart.initial] == nil {
            throw error(root, "<scxml name=\"\(chart.name)\"> initial=\"\(chart.initial)\" is not a state of the chart")
        }
        for id in chart.stateIDs {
            guard let node = chart.nodes[id] else { continue }
            let state = node.state
            if let initial = state.initial, !chart.isDescendant(initial, of: id) {
                throw StatechartLoadError(
                    source: source, line: state.line,
                    message: "state \"\(id)\" initial=\"\(initial)\" is not one of its descendants")
            }
            for transition in state.transitions where chart.nodes[transition.target] == nil {
                throw StatechartLoadError(
                    source: source, line: state.line,
                    message: "<transition event=\"\(transition.event)\" target=\"\(transition.target)\"> in state "
                        + "\"\(id)\": target \"\(transition.target)\" does not exist in chart \"\(chart.name)\"")
            }
        }
    }

    private func checkAttributes(_ element: SCXMLElement, allowed: Set<String>, cellar: Set<String>) throws {
        for attribute in element.attributes {
            switch attribute.namespace {
            case nil where allowed.contains(attribute.name):
                continue
            case Self.cellarNamespace? where cellar.contains(attribute.name):
                continue
            default:
                throw error(element, "\(element.tag): attribute \(attribute.qualifiedName) is not supported")
            }
        }
    }

    private func error(_ element: SCXMLElement, _ message: String) -> StatechartLoadError {
        StatechartLoadError(source: source, line: element.line, message: message)
    }

    /// Ids, event, guard and status names: a letter or `_`, then letters, digits, `_` or `-`.
    private func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
            && text.allSatisfy(\.isASCII)
    }
}
