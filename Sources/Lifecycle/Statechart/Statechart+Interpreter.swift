/// The pure interpreter: the active configuration is one leaf state id.
extension Statechart {
    /// The leaf entered at start: `initial`, descending through the `initial` of every compound state.
    public var initialLeaf: String { leaf(entering: initial) }

    /// The leaf reached by entering `state`: itself if it is a leaf, else the leaf of its `initial` child.
    public func leaf(entering state: String) -> String {
        var current = state
        while let node = nodes[current], let child = node.state.initial { current = child }
        return current
    }

    /// Fires `event` in `leaf`: transitions are looked up on the leaf, then on each ancestor outward (document
    /// order within a state); the first whose guard holds wins and the new leaf is returned.
    public func fire(
        event: String, in leaf: String, guards: (String) -> Bool
    ) -> Result<String, StatechartRejection> {
        guard nodes[leaf] != nil else { return .failure(rejection(event, leaf, .unknownState)) }
        if let edge = transition(for: event, in: leaf, guards: guards) {
            return .success(self.leaf(entering: edge.transition.target))
        }
        let candidates = lineage(of: leaf).flatMap { id in
            (nodes[id]?.state.transitions ?? []).filter { $0.event == event }
        }
        if !candidates.isEmpty {  // all guarded, else one would have fired
            return .failure(rejection(event, leaf, .guardFailed(candidates.compactMap(\.cond))))
        }
        guard events.contains(event) else { return .failure(rejection(event, leaf, .unknownEvent)) }
        return .failure(rejection(event, leaf, .notAccepted(allowedIn: placesAccepting(event))))
    }

    /// The transition `fire` would take, with the state declaring it, or nil.
    public func transition(for event: String, in leaf: String, guards: (String) -> Bool) -> StatechartEdge? {
        for id in lineage(of: leaf) {
            for transition in nodes[id]?.state.transitions ?? [] where transition.event == event {
                if transition.cond.map(guards) ?? true { return StatechartEdge(source: id, transition: transition) }
            }
        }
        return nil
    }

    /// The Trove status `state` shows: its own `cellar:status`, else its nearest ancestor's.
    public func status(of state: String) -> String? { nodes[state]?.status }

    /// The events some transition of `leaf` or its ancestors reacts to (guards not evaluated), inner first.
    public func acceptedEvents(in leaf: String) -> [String] {
        var seen: Set<String> = []
        return lineage(of: leaf).flatMap { nodes[$0]?.state.transitions ?? [] }.map(\.event)
            .filter { seen.insert($0).inserted }
    }

    /// Whether `state` is a `<final>` state.
    public func isFinal(_ state: String) -> Bool { nodes[state]?.state.kind == .final }

    /// Whether `state` is a state of this chart.
    public func contains(_ state: String) -> Bool { nodes[state] != nil }

    /// The state with this id.
    public func state(_ id: String) -> StatechartState? { nodes[id]?.state }

    /// The parent of `state`, nil for top-level states.
    public func parent(of state: String) -> String? { nodes[state]?.parent }

    /// `state` followed by its ancestors, innermost first.
    public func lineage(of state: String) -> [String] {
        var result: [String] = []
        var current: String? = state
        while let id = current, let node = nodes[id] {
            result.append(id)
            current = node.parent
        }
        return result
    }

    /// Whether `state` is `ancestor` or lies below it.
    public func isDescendant(_ state: String, of ancestor: String) -> Bool {
        lineage(of: state).contains(ancestor)
    }

    /// Leaf states (atomic and final) in document order: the possible active configurations.
    public var leafIDs: [String] {
        stateIDs.filter { nodes[$0]?.state.kind != .compound }
    }

    /// Every transition with the state declaring it, in document order.
    public var edges: [StatechartEdge] {
        stateIDs.flatMap { id in
            (nodes[id]?.state.transitions ?? []).map { StatechartEdge(source: id, transition: $0) }
        }
    }

    /// Every event name used by the chart, in order of first appearance.
    public var events: [String] {
        var seen: Set<String> = []
        return edges.map(\.transition.event).filter { seen.insert($0).inserted }
    }

    /// Every guard name used in a `cond`, in order of first appearance.
    public var guardNames: [String] {
        var seen: Set<String> = []
        return edges.compactMap(\.transition.cond).filter { seen.insert($0).inserted }
    }

    /// Where `event` is accepted, as the user sees it: a status when every leaf showing that status accepts it,
    /// else the status with the accepting states named, e.g. `["ACTIVE", "BUILD (state preparing)"]`.
    func placesAccepting(_ event: String) -> [String] {
        let accepting = leafIDs.filter { acceptedEvents(in: $0).contains(event) }
        var places: [String] = []
        var statuses: [String] = []
        for leaf in accepting {
            guard let status = status(of: leaf) else {
                places.append("state \(leaf)")
                continue
            }
            if statuses.contains(status) { continue }
            statuses.append(status)
            let sameStatus = leafIDs.filter { self.status(of: $0) == status }
            let acceptingSame = accepting.filter { self.status(of: $0) == status }
            places.append(
                acceptingSame.count == sameStatus.count
                    ? status : "\(status) (state \(acceptingSame.joined(separator: ", ")))")
        }
        return places
    }

    private func rejection(_ event: String, _ leaf: String, _ reason: StatechartRejection.Reason) -> StatechartRejection {
        StatechartRejection(
            subject: name.prefix(1).uppercased() + name.dropFirst(), chart: name, state: leaf,
            status: status(of: leaf), isFinal: isFinal(leaf), event: event, reason: reason)
    }
}
