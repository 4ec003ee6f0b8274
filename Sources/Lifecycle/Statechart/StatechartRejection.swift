/// Why a chart refused an event in a state, worded for the user:
/// `Instance is BUILD (state preparing); RestartRequested is allowed only in ACTIVE`.
public struct StatechartRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Sendable, Equatable {
        /// No transition of the state or its ancestors reacts to the event; it is accepted in these places
        /// (statuses, or statuses with state ids when only some states of that status accept it).
        case notAccepted(allowedIn: [String])
        /// Transitions exist but every one is guarded and no guard held; the guard names, inner first.
        case guardFailed([String])
        /// No state of the chart reacts to the event at all.
        case unknownEvent
        /// The current state is not a state of the chart.
        case unknownState
    }

    /// Who is refused, as the message starts: `Instance` or `Instance 8f3c...`.
    public var subject: String
    /// The chart's name.
    public let chart: String
    /// The current leaf state.
    public let state: String
    /// The Trove status of the current state, if it has one.
    public let status: String?
    /// Whether the current state is final.
    public let isFinal: Bool
    /// The refused event.
    public let event: String
    /// Why.
    public let reason: Reason

    /// Creates a rejection; `Statechart.fire` is the usual source.
    public init(
        subject: String, chart: String, state: String, status: String?, isFinal: Bool, event: String, reason: Reason
    ) {
        self.subject = subject
        self.chart = chart
        self.state = state
        self.status = status
        self.isFinal = isFinal
        self.event = event
        self.reason = reason
    }

    /// The same rejection with another subject, e.g. `Instance 8f3c...`.
    public func about(_ subject: String) -> StatechartRejection {
        var copy = self
        copy.subject = subject
        return copy
    }

    /// The message shown to users (the API answers it with 422).
    public var description: String {
        let kind = isFinal ? "final state" : "state"
        let whereNow = status.map { "\(subject) is \($0) (\(kind) \(state))" } ?? "\(subject) is in \(kind) \(state)"
        switch reason {
        case .notAccepted(let places):
            return "\(whereNow); \(event) is allowed only in \(Self.list(places))"
        case .guardFailed(let guards):
            return "\(whereNow); \(event) requires \(Self.list(guards))"
        case .unknownEvent:
            return "\(whereNow); \(event) is not an event of the \(chart) chart: no state accepts it"
        case .unknownState:
            return "\(subject) is in state \(state), which the \(chart) chart does not have; \(event) cannot be handled"
        }
    }

    /// `A`, `A or B`, `A, B or C`.
    static func list(_ items: [String]) -> String {
        guard let last = items.last else { return "no state" }
        let rest = items.dropLast()
        return rest.isEmpty ? last : rest.joined(separator: ", ") + " or " + last
    }
}
