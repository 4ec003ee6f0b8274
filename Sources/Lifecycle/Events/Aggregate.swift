import Foundation

/// The state every aggregate keeps about where it is on its chart.
public protocol AggregateState: Codable, Sendable, Equatable {
    /// The empty state of a stream with no events, at the chart's initial leaf.
    init(chart: Statechart)
    /// The current leaf of the chart.
    var leaf: String { get set }
    /// The Trove status shown: the leaf's `cellar:status`, or the last one shown if the leaf declares none.
    var status: String { get set }
    /// The number of events applied (the stream version the next append expects).
    var version: Int { get set }
    /// Event types that were applied although the chart did not accept them where they arrived (the leaf was
    /// kept). Empty for histories written through `decide`.
    var unacceptedEvents: [String] { get set }
    /// How messages name the aggregate: `Instance 8f3c...` (or `Instance` before it exists).
    var subject: String { get }
}

/// An event-sourced aggregate driven by a statechart: `decide` turns commands into events, `evolve` folds them.
public protocol Aggregate: EventSourced where Rules == Statechart {
    /// What is known after folding the events.
    associatedtype State: AggregateState

    /// The events `command` produces in `state`, or why it is refused. Pure: time is `now`, ids come in commands.
    static func decide(_ command: Command, state: State, chart: Statechart, at now: Date) throws(Rejection) -> [Event]
    /// `state` after `event`. Total: an event the chart does not accept here is recorded and the leaf kept.
    static func evolve(_ state: State, _ event: Event, chart: Statechart) -> State
    /// Whether the chart guard `name` holds in `state` for `event`; unknown names are false.
    static func guardHolds(_ name: String, in state: State, on event: Event) -> Bool
}

extension Aggregate {
    /// `state` after every event in order.
    public static func fold(_ events: some Sequence<Event>, from state: State, chart: Statechart) -> State {
        events.reduce(state) { evolve($0, $1, chart: chart) }
    }

    /// The state of a stream holding `events`.
    public static func replay(_ events: some Sequence<Event>, chart: Statechart) -> State {
        fold(events, from: State(chart: chart), chart: chart)
    }

    /// `decide` on the state of a stream holding `history`: reads like a transcript in tests.
    public static func decide(
        _ command: Command, given history: [Event], chart: Statechart, at now: Date
    ) throws(Rejection) -> [Event] {
        try decide(command, state: replay(history, chart: chart), chart: chart, at: now)
    }

    /// Moves `next` along the chart for `event`, evaluating guards on `before`; counts the event.
    static func advance(_ next: inout State, from before: State, by event: Event, chart: Statechart) {
        next.version = before.version + 1
        switch chart.fire(event: event.eventType, in: before.leaf, guards: { guardHolds($0, in: before, on: event) }) {
        case .success(let leaf):
            next.leaf = leaf
            next.status = chart.status(of: leaf) ?? before.status
        case .failure:
            next.leaf = before.leaf
            next.unacceptedEvents.append(event.eventType)
        }
    }

    /// `events` if the chart accepts each of them in turn from `state`, else the chart's refusal as a rejection.
    static func accepted(_ events: [Event], in state: State, chart: Statechart) throws(Rejection) -> [Event] {
        var current = state
        for event in events {
            let result = chart.fire(event: event.eventType, in: current.leaf) { guardHolds($0, in: current, on: event) }
            if case .failure(let refusal) = result {
                throw .notAllowedInState(refusal.about(current.subject).description)
            }
            current = evolve(current, event, chart: chart)
        }
        return events
    }

    /// Refuses commands on an aggregate that was never created or is gone (Trove answers 404).
    static func requireExisting(_ state: State, chart: Statechart) throws(Rejection) {
        if state.version == 0 || state.leaf == chart.initialLeaf || chart.isFinal(state.leaf) {
            throw .notFound("\(state.subject) could not be found")
        }
    }

    /// Refuses a create on a stream that already has events.
    static func requireNew(_ state: State) throws(Rejection) {
        if state.version > 0 { throw .notAllowedInState("\(state.subject) already exists") }
    }
}
