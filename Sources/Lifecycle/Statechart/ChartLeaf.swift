/// A chart's leaves as a Swift enum, so code names a state only through a case the compiler checks; the chart
/// library refuses at load a chart whose leaves are not exactly the enum's cases.
public protocol ChartLeaf: RawRepresentable, CaseIterable, Sendable, Hashable where RawValue == String {}

extension Statechart {
    /// Throws unless the chart's leaves are exactly `Leaf`'s cases (a leaf the code does not know, or a case the
    /// chart lost, would otherwise surface as a comparison that is never true).
    func requireLeaves<Leaf: ChartLeaf>(_ type: Leaf.Type) throws(StatechartLoadError) {
        let chart = Set(leafIDs)
        let code = Set(Leaf.allCases.map(\.rawValue))
        guard chart != code else { return }
        var problems: [String] = []
        let unknown = chart.subtracting(code).sorted()
        let missing = code.subtracting(chart).sorted()
        if !unknown.isEmpty { problems.append("leaves the code does not know: \(unknown.joined(separator: ", "))") }
        if !missing.isEmpty { problems.append("leaves the code names that the chart lacks: \(missing.joined(separator: ", "))") }
        throw StatechartLoadError(source: source, line: nil, message: problems.joined(separator: "; "))
    }
}

extension Instance {
    /// The leaves of `instance.scxml`.
    public enum Leaf: String, ChartLeaf {
        case new, allocating, registering, preparing, rebooting, resizingFlavor, resizingVolume, upgrading, promoting, ejecting,
            detaching, deleting, active, configuring, restartRequired, backingUp, shutdown, error, deleted
    }
}

extension Instance.State {
    /// The current leaf as the code names it (nil only for a state stored by a build whose chart had other leaves).
    public var phase: Instance.Leaf? { Instance.Leaf(rawValue: leaf) }
}

extension Cluster {
    /// The leaves of `cluster.scxml`.
    public enum Leaf: String, ChartLeaf {
        case new, building, growing, shrinking, restarting, upgrading, updating
        case failingOver = "failing_over"
        case rejoining, deleting,
            active, error, deleted
    }
}

extension Cluster.State {
    /// The current leaf as the code names it (nil only for a state stored by a build whose chart had other leaves).
    public var phase: Cluster.Leaf? { Cluster.Leaf(rawValue: leaf) }
}

extension Backup {
    /// The leaves of `backup.scxml`.
    public enum Leaf: String, ChartLeaf {
        case new, queued, building, saving, completed, failed, restored, deleteFailed, deleting, deleted
    }
}

extension Backup.State {
    /// The current leaf as the code names it (nil only for a state stored by a build whose chart had other leaves).
    public var phase: Backup.Leaf? { Backup.Leaf(rawValue: leaf) }
}
