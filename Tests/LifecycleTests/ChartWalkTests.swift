import Foundation
import Lifecycle
import Testing

/// Every transition of every chart, taken from a state reached from the initial state.
@Suite("Chart walks")
struct ChartWalkTests {
    /// Chart level: BFS over leaves (each transition fired with only its own guard true), then every
    /// transition is fired from every leaf it applies to and must land on its target's leaf.
    @Test("every transition of every chart is reachable and lands on its target", arguments: StatechartLibrary.chartNames)
    func chartWalk(name: String) throws {
        let chart = try #require(try Charts.library[name])
        let paths = shortestPaths(chart)
        var exercised: Set<StatechartEdge> = []
        for leaf in chart.leafIDs {
            let path = try #require(paths[leaf], "\(name): leaf \(leaf) is unreachable from \(chart.initialLeaf)")
            #expect(replay(path, in: chart) == leaf)
            for source in chart.lineage(of: leaf) {
                for transition in chart.state(source)?.transitions ?? [] {
                    let guards: (String) -> Bool = { $0 == transition.cond }
                    let taken = chart.transition(for: transition.event, in: leaf, guards: guards)
                    guard taken?.transition == transition else { continue }  // shadowed by an inner transition
                    exercised.insert(StatechartEdge(source: source, transition: transition))
                    let result = chart.fire(event: transition.event, in: leaf, guards: guards)
                    let target = chart.leaf(entering: transition.target)
                    #expect(result == .success(target), "\(name): \(leaf) --\(transition.event)--> \(target)")
                    #expect(chart.status(of: target) != nil || chart.isFinal(target) || name == "backup")
                }
            }
        }
        #expect(Set(chart.edges) == exercised, "\(name): transitions never taken from any leaf")
    }

    @Test("the instance walk with real events takes every transition and shows the chart's status")
    func instanceWalk() throws {
        let chart = try Charts.instance
        let covered = try walk(Instance.self, chart: chart, samples: Samples.instanceEvents) { state in
            "\(state.leaf)|\(Instance.Guard.allCases.map { guardKey($0.rawValue, state) })"
        }
        #expect(covered == Set(chart.edges))
    }

    @Test("the backup walk with real events takes every transition and shows the chart's status")
    func backupWalk() throws {
        let chart = try Charts.backup
        let covered = try walk(Backup.self, chart: chart, samples: Samples.backupEvents) { $0.leaf }
        #expect(covered == Set(chart.edges))
    }

    @Test("the cluster walk with real events takes every transition and shows the chart's status")
    func clusterWalk() throws {
        let chart = try Charts.cluster
        let covered = try walk(Cluster.self, chart: chart, samples: Samples.clusterEvents) {
            "\($0.leaf)|\(min($0.members.count - $0.leavingMemberIds.count, 3))"
        }
        #expect(covered == Set(chart.edges))
    }

    /// The chart and the Swift names match exactly: events, and guards.
    @Test("chart event names are exactly the Swift event types, and every guard is known")
    func namesMatch() throws {
        #expect(try Set(Charts.instance.events) == Set(Instance.Event.eventTypes))
        #expect(try Set(Charts.backup.events) == Set(Backup.Event.eventTypes))
        #expect(try Set(Charts.cluster.events) == Set(Cluster.Event.eventTypes))
        #expect(try Set(Charts.instance.guardNames) == Set(Instance.Guard.allCases.map(\.rawValue)))
        #expect(try Set(Charts.cluster.guardNames) == Set(Cluster.Guard.allCases.map(\.rawValue)))
        #expect(try Charts.backup.guardNames.isEmpty)
        #expect(Set(Samples.instanceEvents.map(\.eventType)) == Set(Instance.Event.eventTypes))
        #expect(Set(Samples.backupEvents.map(\.eventType)) == Set(Backup.Event.eventTypes))
        #expect(Set(Samples.clusterEvents.map(\.eventType)) == Set(Cluster.Event.eventTypes))
    }

    private func guardKey(_ name: String, _ state: Instance.State) -> Bool {
        Instance.guardHolds(name, in: state, on: .guestRegistered)
    }
}

/// BFS over leaves from the initial leaf; each edge fired with only its own guard true.
func shortestPaths(_ chart: Statechart) -> [String: [StatechartTransition]] {
    var paths: [String: [StatechartTransition]] = [chart.initialLeaf: []]
    var queue = [chart.initialLeaf]
    while !queue.isEmpty {
        let leaf = queue.removeFirst()
        for event in chart.acceptedEvents(in: leaf) {
            for source in chart.lineage(of: leaf) {
                for transition in chart.state(source)?.transitions ?? [] where transition.event == event {
                    guard case .success(let next) = chart.fire(event: event, in: leaf, guards: { $0 == transition.cond }),
                        paths[next] == nil
                    else { continue }
                    paths[next] = (paths[leaf] ?? []) + [transition]
                    queue.append(next)
                }
            }
        }
    }
    return paths
}

/// The leaf reached by firing `path` from the initial leaf.
func replay(_ path: [StatechartTransition], in chart: Statechart) -> String? {
    var leaf = chart.initialLeaf
    for transition in path {
        guard case .success(let next) = chart.fire(event: transition.event, in: leaf, guards: { $0 == transition.cond })
        else { return nil }
        leaf = next
    }
    return leaf
}

/// BFS over aggregate states driven by real events through `evolve`: checks each accepted event lands on the
/// chart's target leaf and status, each refused one keeps the leaf; returns the chart edges taken.
func walk<A: Aggregate>(
    _ aggregate: A.Type, chart: Statechart, samples: [A.Event], key: (A.State) -> String
) throws -> Set<StatechartEdge> {
    var covered: Set<StatechartEdge> = []
    var seen: Set<String> = []
    var queue = [A.State(chart: chart)]
    while !queue.isEmpty {
        let state = queue.removeFirst()
        guard seen.insert(key(state)).inserted else { continue }
        for event in samples {
            let edge = chart.transition(for: event.eventType, in: state.leaf) { A.guardHolds($0, in: state, on: event) }
            let next = A.evolve(state, event, chart: chart)
            #expect(next.version == state.version + 1)
            guard let edge else {
                #expect(next.leaf == state.leaf && next.unacceptedEvents.last == event.eventType)
                continue
            }
            covered.insert(edge)
            let target = chart.leaf(entering: edge.transition.target)
            #expect(next.leaf == target, "\(state.leaf) --\(event.eventType)--> \(next.leaf), chart says \(target)")
            #expect(next.status == chart.status(of: target) ?? state.status)
            #expect(next.unacceptedEvents == state.unacceptedEvents)
            queue.append(next)
        }
    }
    return covered
}
