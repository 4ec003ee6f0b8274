import Foundation

/// A lifecycle drawn as a W3C SCXML subset: nested `state`s, `final`s and `transition event= target= cond=`,
/// each state optionally carrying the Trove status it shows (`cellar:status`).
///
/// A `Statechart` is an immutable value; the interpreter (`fire`, `status(of:)`, ...) is pure.
public struct Statechart: Sendable, Equatable {
    /// The chart's name, from `<scxml name=...>` (`instance`, `backup`, `cluster`).
    public let name: String
    /// Where the chart was loaded from (a file path or a label), used in error messages.
    public let source: String
    /// The id of the top-level state entered first (`<scxml initial=...>`, or the first state).
    public let initial: String
    /// The top-level states in document order; compound states hold their children.
    public let states: [StatechartState]
    /// Every state by id, with its parent and resolved status.
    let nodes: [String: StatechartNode]
    /// Every state id in document order (parents before children).
    public let stateIDs: [String]

    /// Parses and validates an SCXML document; `source` names it in error messages.
    public init(scxml: Data, source: String) throws {
        let root = try SCXMLDocumentParser.parse(scxml, source: source)
        self = try StatechartBuilder(source: source).build(root)
    }

    /// Loads and validates the SCXML file at `url`.
    public static func load(contentsOf url: URL) throws -> Statechart {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw StatechartLoadError(source: url.path, line: nil, message: "cannot read the file: \(error)")
        }
        return try Statechart(scxml: data, source: url.path)
    }

    init(name: String, source: String, initial: String, states: [StatechartState]) {
        self.name = name
        self.source = source
        self.initial = initial
        self.states = states
        var nodes: [String: StatechartNode] = [:]
        var order: [String] = []
        func index(_ state: StatechartState, parent: String?, inherited: String?) {
            let status = state.status ?? inherited
            nodes[state.id] = StatechartNode(state: state, parent: parent, status: status)
            order.append(state.id)
            for child in state.children { index(child, parent: state.id, inherited: status) }
        }
        for state in states { index(state, parent: nil, inherited: nil) }
        self.nodes = nodes
        self.stateIDs = order
    }
}

/// One state of a chart: atomic, compound (has children) or final.
public struct StatechartState: Sendable, Equatable {
    /// What kind of state this is.
    public enum Kind: String, Sendable, Equatable {
        /// A leaf that can be left by its transitions.
        case atomic
        /// A state with children; being in it means being in one of them.
        case compound
        /// A leaf that is never left (`<final>`).
        case final
    }

    /// The state's id, unique in its chart.
    public let id: String
    /// Atomic, compound or final.
    public let kind: Kind
    /// For a compound state: the child entered by default (declared `initial`, or the first child).
    public let initial: String?
    /// The Trove status declared on this element (`cellar:status`), not inherited; see `Statechart.status(of:)`.
    public let status: String?
    /// Outgoing transitions in document order.
    public let transitions: [StatechartTransition]
    /// Child states in document order (empty unless compound).
    public let children: [StatechartState]
    /// The line of the element in its SCXML file.
    public let line: Int

    /// Creates a state; the loader is the usual way to get one.
    public init(
        id: String, kind: Kind, initial: String?, status: String?,
        transitions: [StatechartTransition], children: [StatechartState], line: Int
    ) {
        self.id = id
        self.kind = kind
        self.initial = initial
        self.status = status
        self.transitions = transitions
        self.children = children
        self.line = line
    }
}

/// `<transition event= target= cond=>`: on `event`, if the guard named `cond` holds (or there is none), go to `target`.
public struct StatechartTransition: Sendable, Equatable, Hashable {
    /// The event name, e.g. `RestartRequested`.
    public let event: String
    /// The id of the state entered (descending through `initial`s to a leaf).
    public let target: String
    /// The name of a boolean guard the aggregate evaluates, or nil.
    public let cond: String?

    /// Creates a transition.
    public init(event: String, target: String, cond: String?) {
        self.event = event
        self.target = target
        self.cond = cond
    }
}

/// A transition together with the state that declares it.
public struct StatechartEdge: Sendable, Equatable, Hashable {
    /// The id of the state declaring the transition (it applies to every leaf below it).
    public let source: String
    /// The transition.
    public let transition: StatechartTransition

    /// Pairs a transition with the state declaring it.
    public init(source: String, transition: StatechartTransition) {
        self.source = source
        self.transition = transition
    }
}

/// Index entry: a state, its parent and its effective (inherited) status.
struct StatechartNode: Sendable, Equatable {
    let state: StatechartState
    let parent: String?
    let status: String?
}
