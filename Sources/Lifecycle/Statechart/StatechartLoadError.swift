/// A statechart file that could not be loaded: malformed XML, or SCXML outside the supported subset.
///
/// The description names the file, the line and the offending element, e.g.
/// `statecharts/instance.scxml:12: <transition event="Go" target="nowhere"> in state "active": target "nowhere" does not exist`.
public struct StatechartLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file path or label the chart was loaded from.
    public let source: String
    /// The line of the offending element, when known.
    public let line: Int?
    /// What is wrong.
    public let message: String

    /// Creates a load error.
    public init(source: String, line: Int?, message: String) {
        self.source = source
        self.line = line
        self.message = message
    }

    /// `source:line: message`.
    public var description: String {
        if let line { return "\(source):\(line): \(message)" }
        return "\(source): \(message)"
    }
}
