import Lifecycle
import Testing

/// The failover decision, pure: whom to promote, or every reason nobody can be.
@Suite("Failover decision")
struct FailoverTests {
    typealias Report = Failover.MemberReport
    static let asynchronous = Failover.Policy(maximumLagBytes: 1_000, synchronous: false)
    static let synchronous = Failover.Policy(maximumLagBytes: 1_000, synchronous: true)

    static func replica(
        _ id: String, weight: Int, received: UInt64 = 10_000, replayed: UInt64? = nil, healthy: Bool = true,
        timeline: Int = 2, confirmed: Bool = false
    ) -> Report {
        Report(
            id: id, role: .replica, healthy: healthy, timeline: timeline, receivedLSN: received, replayedLSN: replayed ?? received,
            weight: weight, confirmedSynchronous: confirmed)
    }

    static let lostPrimary = Report(id: "p", role: .primary, healthy: false, timeline: 2, receivedLSN: 10_000, replayedLSN: 10_000, weight: 100)

    @Test("the highest weight among healthy, caught-up replicas wins")
    func highestWeight() {
        let members = [Self.lostPrimary, Self.replica("a", weight: 100), Self.replica("b", weight: 50), Self.replica("c", weight: 10)]
        #expect(Failover.choose(members, primaryLSN: 10_000, policy: Self.asynchronous) == .promote("a"))
    }

    @Test("a weight-0 member is never promoted, even alone")
    func weightZero() {
        let members = [Self.lostPrimary, Self.replica("a", weight: 0)]
        #expect(Failover.choose(members, primaryLSN: 10_000, policy: Self.asynchronous) == .nobody([.isPrimary("p"), .neverPromoted("a")]))
    }

    @Test("a high-weight member lagging past the bound loses to a caught-up one")
    func laggingLoses() {
        let members = [Self.replica("a", weight: 100, received: 8_000), Self.replica("b", weight: 50, received: 9_900)]
        #expect(Failover.choose(members, primaryLSN: 10_000, policy: Self.asynchronous) == .promote("b"))
        #expect(
            Failover.choose([members[0]], primaryLSN: 10_000, policy: Self.asynchronous)
                == .nobody([.lagging("a", bytes: 2_000, bound: 1_000)]))
    }

    @Test("ties go to the most caught-up (received, then replayed), then to the lowest id")
    func ties() {
        #expect(
            Failover.choose(
                [Self.replica("a", weight: 50, received: 9_500), Self.replica("b", weight: 50, received: 9_900)],
                primaryLSN: 10_000, policy: Self.asynchronous) == .promote("b"))
        #expect(
            Failover.choose(
                [Self.replica("a", weight: 50, replayed: 9_000), Self.replica("b", weight: 50, replayed: 9_800)],
                primaryLSN: 10_000, policy: Self.asynchronous) == .promote("b"))
        #expect(
            Failover.choose([Self.replica("b", weight: 50), Self.replica("a", weight: 50)], primaryLSN: 10_000, policy: Self.asynchronous)
                == .promote("a"))
    }

    @Test("in synchronous mode only a standby that confirmed the last commits is promoted")
    func synchronousMode() {
        let members = [Self.replica("a", weight: 100), Self.replica("b", weight: 10, confirmed: true)]
        #expect(Failover.choose(members, primaryLSN: 10_000, policy: Self.synchronous) == .promote("b"))
        #expect(Failover.choose([members[0]], primaryLSN: 10_000, policy: Self.synchronous) == .nobody([.notSynchronous("a")]))
    }

    @Test(
        "unhealthy members and members on an older timeline are refused; with the primary's position unknown the most advanced member is the reference"
    )
    func refusals() {
        let members = [
            Self.replica("a", weight: 100, healthy: false), Self.replica("b", weight: 50, timeline: 1),
            Self.replica("c", weight: 10, received: 5_000),
        ]
        #expect(
            Failover.choose(members, primaryLSN: nil, policy: Self.asynchronous)
                == .nobody([
                    .unhealthy("a"), .oldTimeline("b", timeline: 1, newest: 2), .lagging("c", bytes: 5_000, bound: 1_000),
                ]))
        #expect(Failover.Refusal.lagging("c", bytes: 5_000, bound: 1_000).description == "c lags 5000 bytes, more than the bound of 1000")
        #expect(Failover.choose([], primaryLSN: nil, policy: Self.asynchronous) == .nobody([]))
    }
}
