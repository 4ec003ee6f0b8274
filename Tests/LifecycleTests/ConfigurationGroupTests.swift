import Foundation
import Testing

@testable import Lifecycle

@Suite("Configuration groups and parameters")
struct ConfigurationGroupTests {
    static let created = ConfigurationGroup.Created(
        id: "cfg-1", projectId: "proj-1", name: " tuned ", description: nil, datastore: Datastore(type: "postgresql", version: "15"),
        datastoreVersionId: "v-15", values: ["work_mem": .integer(8192)])

    static let parameters: [ConfigurationParameter] = [
        .init(name: "work_mem", type: .integer, min: 64, max: 2_147_483_647, restartRequired: false, unit: "kB"),
        .init(name: "max_connections", type: .integer, min: 1, max: 262_143, restartRequired: true),
        .init(name: "random_page_cost", type: .float, min: 0, max: 1.79e308, restartRequired: false),
        .init(name: "enable_seqscan", type: .boolean, restartRequired: false),
        .init(name: "wal_level", type: .string, allowedValues: ["minimal", "replica", "logical"], restartRequired: true),
    ]

    @Test("values are checked against the parameters; every refusal names the parameter")
    func validation() throws {
        let good = try Self.parameters.validated([
            "work_mem": .integer(8192), "random_page_cost": .integer(2), "enable_seqscan": .string("off"), "wal_level": .string("logical"),
        ])
        #expect(
            good == ["work_mem": .integer(8192), "random_page_cost": .real(2), "enable_seqscan": .boolean(false), "wal_level": .string("logical")])
        let refusals: [([String: ParameterValue], String)] = [
            (["no_such": .integer(1)], "The parameter no_such is not a configurable parameter of this datastore version"),
            (["work_mem": .integer(1)], "The value 1 of parameter work_mem is below its minimum 64"),
            (["max_connections": .integer(300_000)], "The value 300000 of parameter max_connections is above its maximum 262143"),
            (["work_mem": .string("lots")], "The value lots of parameter work_mem has the wrong type; work_mem takes an integer (in kB)"),
            (["work_mem": .real(1.5)], "The value 1.5 of parameter work_mem has the wrong type; work_mem takes an integer (in kB)"),
            (["enable_seqscan": .string("maybe")], "The value \"maybe\" of parameter enable_seqscan is not a boolean (true or false)"),
            (["wal_level": .string("full")], "The value \"full\" of parameter wal_level is not one of: minimal, replica, logical"),
        ]
        for (values, message) in refusals {
            #expect(throws: Rejection.invalidInput(message)) { try Self.parameters.validated(values) }
        }
    }

    @Test("values decode from JSON as numbers, booleans and strings")
    func valueCoding() throws {
        let decoded = try JSONDecoder().decode([String: ParameterValue].self, from: Data(#"{"a": 1, "b": 0.5, "c": true, "d": "on"}"#.utf8))
        #expect(decoded == ["a": .integer(1), "b": .real(0.5), "c": .boolean(true), "d": .string("on")])
        #expect(try JSONDecoder().decode([String: ParameterValue].self, from: JSONEncoder().encode(decoded)) == decoded)
    }

    @Test("create, merge, replace, delete; refused while attached")
    func lifecycle() throws {
        let events = try ConfigurationGroup.decide(.create(Self.created), state: .init())
        var state = ConfigurationGroup.replay(events)
        #expect(state.created?.name == "tuned")
        let merged = try ConfigurationGroup.decide(.merge(values: ["max_connections": .integer(50)]), state: state)
        #expect(merged == [.configurationGroupChanged(.init(values: ["work_mem": .integer(8192), "max_connections": .integer(50)]))])
        state = merged.reduce(state) { ConfigurationGroup.evolve($0, $1) }
        let replaced = try ConfigurationGroup.decide(
            .replace(values: ["enable_seqscan": .boolean(false)], name: "g2", description: nil), state: state)
        state = replaced.reduce(state) { ConfigurationGroup.evolve($0, $1) }
        #expect(state.values == ["enable_seqscan": .boolean(false)])
        #expect(state.created?.name == "g2")
        #expect(throws: Rejection.notAllowedInState("Configuration group cfg-1 is attached to 2 instance(s); detach it before deleting it")) {
            try ConfigurationGroup.decide(.delete(attachedInstances: 2), state: state)
        }
        state = try ConfigurationGroup.decide(.delete(attachedInstances: 0), state: state).reduce(state) { ConfigurationGroup.evolve($0, $1) }
        #expect(throws: Rejection.notFound("Configuration group cfg-1 could not be found")) {
            try ConfigurationGroup.decide(.merge(values: ["work_mem": .integer(64)]), state: state)
        }
        for event in events + merged + replaced + [.configurationGroupDeleted] {
            #expect(try ConfigurationGroup.Event.decode(eventType: event.eventType, data: event.encodedData()) == event)
        }
    }
}
