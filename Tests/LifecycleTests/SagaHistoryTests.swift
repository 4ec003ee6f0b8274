import Foundation
import Lifecycle
import Testing

/// Stored saga streams (`Histories/saga-*.json`), as golden as the aggregates': each must still decode, encode
/// exactly as stored, fold to its stored state, and leave its machine where it left it. Run with
/// `CELLAR_RECORD_HISTORIES=1` to write them from the sequences below after a deliberate change, and review the diff.
@Suite("Golden saga histories")
struct SagaHistoryTests {
    struct History: Codable {
        var aggregate = "saga"
        var saga: String
        var description: String
        var events: [Saga.Event]
        var state: Saga.State?
    }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func start(_ saga: Saga.Kind, trigger: String, subject: String = "instance-inst-1") -> Saga.Event {
        .sagaStarted(
            Saga.Start(
                saga: saga.rawValue, instanceId: "inst-1", triggerStream: subject, triggerVersion: 1,
                triggerType: trigger, requestId: "req-1"))
    }

    static func ran(_ step: String, _ attempt: Int = 1) -> [Saga.Event] {
        [.stepStarted(.init(step: step, attempt: attempt)), .stepSucceeded(.init(step: step, attempt: attempt))]
    }

    /// The histories and how they were made: a create that succeeded (as recorded before allocation and its
    /// record were two steps, and after), a create whose prepare failed past its retries and was compensated, a
    /// failover, a guest change.
    static let recorded: [(file: String, history: History)] = [
        (
            "saga-create-instance-completed.json",
            History(
                saga: "CreateInstance", description: "CreateInstance: every step once, then completed",
                events: [start(.createInstance, trigger: "InstanceCreateRequested")]
                    + ran("allocateCompute") + ran("awaitGuestRegistration") + ran("prepareDatastore") + ran("markActive")
                    + [.sagaCompleted])
        ),
        (
            "saga-create-instance-compensated.json",
            History(
                saga: "CreateInstance",
                description: "CreateInstance: prepare fails, is retried, fails for good; the compute is released, the saga fails",
                events: [start(.createInstance, trigger: "InstanceCreateRequested")]
                    + ran("allocateCompute") + ran("awaitGuestRegistration")
                    + [
                        .stepStarted(.init(step: "prepareDatastore", attempt: 1)),
                        .stepFailed(.init(step: "prepareDatastore", attempt: 1, reason: "initdb failed", retryAt: t0.addingTimeInterval(2))),
                        .stepStarted(.init(step: "prepareDatastore", attempt: 2)),
                        .stepFailed(.init(step: "prepareDatastore", attempt: 2, reason: "initdb failed", retryAt: nil)),
                        .compensationStarted(.init(step: "releaseCompute", attempt: 1)),
                        .compensationSucceeded(.init(step: "releaseCompute", attempt: 1)),
                        .sagaFailed(.init(reason: "initdb failed")),
                    ])
        ),
        (
            "saga-create-instance-recorded-server.json",
            History(
                saga: "CreateInstance",
                description: "CreateInstance: the started server is the allocation's result, recorded by the next step",
                events: [
                    start(.createInstance, trigger: "InstanceCreateRequested"),
                    .stepStarted(.init(step: "allocateCompute", attempt: 1)),
                    .stepSucceeded(.init(step: "allocateCompute", attempt: 1, result: .server(serverId: "process-inst-1", address: "127.42.0.3"))),
                ]
                    + ran("recordCompute") + ran("awaitGuestRegistration") + ran("prepareDatastore") + ran("markActive")
                    + [.sagaCompleted])
        ),
        (
            "saga-fail-over.json",
            History(
                saga: "FailOver", description: "FailOver: fenced by the guest, how recorded, elected, promoted, re-pointed",
                events: [
                    start(.failOver, trigger: "ClusterFailoverStarted", subject: "cluster-cl-1"),
                    .stepStarted(.init(step: "fence", attempt: 1)),
                    .stepSucceeded(.init(step: "fence", attempt: 1, result: .fenced(how: "stopped by its guest"))),
                ]
                    + ran("recordFence") + ran("elect") + ran("promote") + ran("repoint") + ran("markCompleted") + [.sagaCompleted])
        ),
        (
            "saga-change-guest.json",
            History(
                saga: "ChangeGuest", description: "ChangeGuest: applied on the guest, recorded",
                events: [start(.changeGuest, trigger: "GuestChangeRequested")] + ran("applyOnGuest") + ran("recordApplied") + [.sagaCompleted])
        ),
    ]

    static let recording = ProcessInfo.processInfo.environment["CELLAR_RECORD_HISTORIES"] == "1"

    @Test("each saga history decodes, encodes as stored, folds to its state and leaves its machine finished", arguments: recorded.map(\.file))
    func golden(file: String) throws {
        let url = Charts.historiesDirectory.appendingPathComponent(file)
        if Self.recording, let made = Self.recorded.first(where: { $0.file == file })?.history {
            var history = made
            history.state = Saga.replay(history.events)
            let encoder = EventJSON.encoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(history).write(to: url)
        }
        let data = try Data(contentsOf: url)
        let history = try EventJSON.decoder().decode(History.self, from: data)
        let folded = Saga.replay(history.events)
        #expect(history.state == folded, "\(file): folds to a different state")
        #expect(folded.version == history.events.count)
        let stored = (try JSONSerialization.jsonObject(with: data) as? NSDictionary)?["events"] as? NSArray
        let encoded = try JSONSerialization.jsonObject(with: EventJSON.encoder().encode(history.events)) as? NSArray
        #expect(stored == encoded, "\(file): the events no longer encode as stored")
        let kind = try #require(Saga.Kind(rawValue: history.saga), "\(file): no saga kind \(history.saga)")
        let finished = Self.machineIsFinished(folded, kind.program)
        let ownNames = Self.recordsOnlyItsNames(history.events, kind.program)
        #expect(finished, "\(file): the machine would go on")
        #expect(ownNames, "\(file): a step or compensation its program does not have")
        for event in history.events {
            #expect(try Saga.Event.decode(eventType: event.eventType, data: event.encodedData()) == event)
        }
    }

    static func machineIsFinished<Program: SagaProgram>(_ state: Saga.State, _ program: Program.Type) -> Bool {
        Saga.next(state, of: program, at: t0) == .finished
    }

    /// Every step and compensation the history records decodes as one of `program`'s.
    static func recordsOnlyItsNames<Program: SagaProgram>(_ events: [Saga.Event], _ program: Program.Type) -> Bool {
        events.allSatisfy { event in
            switch event {
            case .stepStarted(let attempt), .stepSucceeded(let attempt): Program.Step(rawValue: attempt.step) != nil
            case .stepFailed(let failure): Program.Step(rawValue: failure.step) != nil
            case .compensationStarted(let attempt), .compensationSucceeded(let attempt): Program.Compensation(rawValue: attempt.step) != nil
            case .compensationFailed(let failure): Program.Compensation(rawValue: failure.step) != nil
            case .sagaStarted, .sagaCompleted, .sagaFailed, .sagaCancelled: true
            }
        }
    }
}
