import Foundation

/// The charts Cellar runs on, loaded once at start-up from `statecharts/`.
public struct StatechartLibrary: Sendable, Equatable {
    /// The file names loaded by `load(directory:)`, without `.scxml`.
    public static let chartNames = ["instance", "backup", "cluster"]

    /// The instance lifecycle (`instance.scxml`).
    public let instance: Statechart
    /// The backup lifecycle (`backup.scxml`).
    public let backup: Statechart
    /// The cluster lifecycle (`cluster.scxml`).
    public let cluster: Statechart

    /// A library of already loaded charts.
    public init(instance: Statechart, backup: Statechart, cluster: Statechart) {
        self.instance = instance
        self.backup = backup
        self.cluster = cluster
    }

    /// Loads `instance.scxml`, `backup.scxml` and `cluster.scxml` from `directory`; each chart's `name`
    /// must match its file name, and its leaves the code's enum of them (`Instance.Leaf`, ...).
    public static func load(directory: URL) throws -> StatechartLibrary {
        func chart(_ name: String) throws -> Statechart {
            let url = directory.appendingPathComponent("\(name).scxml")
            let chart = try Statechart.load(contentsOf: url)
            guard chart.name == name else {
                throw StatechartLoadError(
                    source: url.path, line: nil, message: "the chart is named \"\(chart.name)\" but must be \"\(name)\"")
            }
            return chart
        }
        let library = StatechartLibrary(instance: try chart("instance"), backup: try chart("backup"), cluster: try chart("cluster"))
        try library.instance.requireLeaves(Instance.Leaf.self)
        try library.cluster.requireLeaves(Cluster.Leaf.self)
        try library.backup.requireLeaves(Backup.Leaf.self)
        return library
    }

    /// The chart with this name (`instance`, `backup`, `cluster`), or nil.
    public subscript(name: String) -> Statechart? {
        switch name {
        case instance.name: instance
        case backup.name: backup
        case cluster.name: cluster
        default: nil
        }
    }

    /// All charts, in `chartNames` order.
    public var all: [Statechart] { [instance, backup, cluster] }
}
