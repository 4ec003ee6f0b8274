import Foundation

/// What the one command path (`AggregateRepository`) needs of a model kept as events: the state of an empty
/// stream, how an event changes it, which events a command produces, and where the stream stands. `Aggregate`s
/// get it from their statechart; a model without a chart (`ConfigurationGroup`) gives it directly.
public protocol EventSourced {
    /// What callers ask for.
    associatedtype Command: Sendable
    /// What happened.
    associatedtype Event: DomainEvent
    /// What is known after folding the events.
    associatedtype State: Sendable
    /// What the rules need besides the events: an aggregate's statechart, or `NoRules`.
    associatedtype Rules: Sendable

    /// The state of a stream with no events.
    static func initialState(_ rules: Rules) -> State
    /// `state` after `event`.
    static func applying(_ event: Event, to state: State, _ rules: Rules) -> State
    /// The events `command` produces in `state`, or why it is refused.
    static func deciding(_ command: Command, on state: State, _ rules: Rules, at now: Date) throws(Rejection) -> [Event]
    /// `state` knowing its stream's version (the version the next append expects).
    static func stamped(_ state: State, version: Int) -> State
}

/// The rules of a model that has no statechart.
public struct NoRules: Sendable {
    public init() {}
}

extension Aggregate {
    public static func initialState(_ chart: Statechart) -> State { State(chart: chart) }

    public static func applying(_ event: Event, to state: State, _ chart: Statechart) -> State { evolve(state, event, chart: chart) }

    public static func deciding(_ command: Command, on state: State, _ chart: Statechart, at now: Date) throws(Rejection) -> [Event] {
        try decide(command, state: state, chart: chart, at: now)
    }

    public static func stamped(_ state: State, version: Int) -> State {
        var stamped = state
        stamped.version = version
        return stamped
    }
}
