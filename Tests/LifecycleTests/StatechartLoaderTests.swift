import Foundation
import Lifecycle
import Testing

/// The SCXML subset loader: the repository's charts load; anything outside the subset fails with a message
/// naming the file, line and element.
@Suite("Statechart loader")
struct StatechartLoaderTests {
    /// Wraps states in an `<scxml>` with the right namespaces.
    static func document(_ body: String, name: String = "test", initial: String? = nil) -> Data {
        let initialAttribute = initial.map { " initial=\"\($0)\"" } ?? ""
        return Data(
            """
            <scxml xmlns="http://www.w3.org/2005/07/scxml" xmlns:cellar="urn:cellar:statechart" version="1.0" \
            name="\(name)"\(initialAttribute)>
            \(body)
            </scxml>
            """.utf8)
    }

    func loadError(_ data: Data) -> StatechartLoadError? {
        do {
            _ = try Statechart(scxml: data, source: "test.scxml")
            return nil
        } catch let error as StatechartLoadError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test("the repository's charts load by name")
    func libraryLoads() throws {
        let library = try Charts.library
        #expect(library.instance.name == "instance")
        #expect(library["backup"] == library.backup)
        #expect(library["cluster"]?.initial == "new")
        #expect(library["nope"] == nil)
        #expect(library.all.map(\.name) == StatechartLibrary.chartNames)
    }

    @Test("a chart whose leaves differ from the code's enum of them is refused at load, naming the difference")
    func leavesMatchTheCode() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("charts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in StatechartLibrary.chartNames {
            var text = try String(contentsOf: Charts.directory.appendingPathComponent("\(name).scxml"), encoding: .utf8)
            if name == "cluster" { text = text.replacingOccurrences(of: "\"rejoining\"", with: "\"rejoining_member\"") }
            try text.write(to: folder.appendingPathComponent("\(name).scxml"), atomically: true, encoding: .utf8)
        }
        #expect(throws: StatechartLoadError.self) { try StatechartLibrary.load(directory: folder) }
        do {
            _ = try StatechartLibrary.load(directory: folder)
        } catch {
            #expect("\(error)".contains("rejoining_member") && "\(error)".contains("lacks: rejoining"), "\(error)")
        }
        #expect(Set(try Charts.cluster.leafIDs) == Set(Cluster.Leaf.allCases.map(\.rawValue)))
    }

    @Test("a small chart: tree, default initial child, inherited status")
    func smallChart() throws {
        let chart = try Statechart(
            scxml: Self.document(
                """
                <state id="a" cellar:status="UP">
                  <state id="a1"><transition event="Next" target="a2" cond="ready"/></state>
                  <state id="a2" cellar:status="BUSY"/>
                  <transition event="Stop" target="done"/>
                </state>
                <final id="done"/>
                """), source: "test.scxml")
        #expect(chart.name == "test")
        #expect(chart.initial == "a")
        #expect(chart.initialLeaf == "a1")
        #expect(chart.stateIDs == ["a", "a1", "a2", "done"])
        #expect(chart.states.map(\.kind) == [.compound, .final])
        #expect(chart.state("a")?.initial == "a1")
        #expect(chart.status(of: "a1") == "UP")
        #expect(chart.status(of: "a2") == "BUSY")
        #expect(chart.status(of: "done") == nil)
        #expect(chart.state("a1")?.transitions == [StatechartTransition(event: "Next", target: "a2", cond: "ready")])
    }

    @Test("a transition to a state that does not exist")
    func badTarget() {
        let error = loadError(
            Self.document(
                """
                <state id="a">
                  <transition event="Go" target="nowhere"/>
                </state>
                """))
        #expect(error?.source == "test.scxml")
        #expect(
            error?.description.contains(
                "<transition event=\"Go\" target=\"nowhere\"> in state \"a\": target \"nowhere\" does not exist in chart \"test\"") == true)
    }

    @Test("a duplicate state id names both lines")
    func duplicateID() {
        let error = loadError(
            Self.document(
                """
                <state id="a"/>
                <state id="b">
                  <state id="a"/>
                </state>
                """))
        #expect(error?.line == 4)
        #expect(error?.message == "duplicate state id \"a\" (first declared on line 2)")
    }

    @Test("malformed XML")
    func malformedXML() {
        let mismatched = loadError(Data("<scxml>\n<state></scxml>".utf8))
        #expect(mismatched?.description == "test.scxml:2: malformed XML: an end tag does not match its start tag (XML error 76)")
        let truncated = loadError(Data(#"<scxml xmlns="http://www.w3.org/2005/07/scxml" name="t"><state id="a">"#.utf8))
        #expect(truncated?.message.hasPrefix("malformed XML: ") == true)
        #expect(loadError(Data())?.message.hasPrefix("malformed XML: ") == true)
        #expect(
            loadError(Data(#"<scxml a="1" a="2"/>"#.utf8))?.message
                == "malformed XML: an attribute is given twice (XML error 42)")
    }

    @Test(
        "elements, attributes and text outside the subset",
        arguments: [
            (#"<state id="a"><onentry/></state>"#, "<onentry> in state \"a\" is not supported; expected <state> or <final>"),
            (#"<parallel id="p"/>"#, "<parallel id=\"p\"> in scxml is not supported; expected <state> or <final>"),
            (#"<state id="a"><transition event="Go"/></state>"#, "needs target=\"...\" naming exactly one state"),
            (#"<state id="a"><transition target="a"/></state>"#, "needs event=\"...\" naming exactly one event"),
            (#"<state id="a"><transition event="A B" target="a"/></state>"#, "naming exactly one event"),
            (#"<state id="a"><transition event="Go" target="a" type="internal"/></state>"#, "attribute type is not supported"),
            (#"<state id="a"><transition event="Go" target="a" cond="x &amp;&amp; y"/></state>"#, "must be a single guard name"),
            (#"<state><transition event="Go" target="a"/></state>"#, "needs an id=\"...\""),
            (#"<state id="a" initial="b"/>"#, "declares initial=\"b\" but has no child states"),
            (#"<state id="a" initial="b"><state id="c"/></state><state id="b"/>"#, "initial=\"b\" is not one of its descendants"),
            (#"<final id="f"><transition event="Go" target="f"/></final>"#, "final state \"f\" cannot have transitions"),
            (#"<state id="a" cellar:color="red"/>"#, "attribute cellar:color is not supported"),
            (#"<state id="a">hello</state>"#, "unexpected text \"hello\" inside <state>"),
        ])
    func outsideSubset(body: String, expected: String) {
        let error = loadError(Self.document(body))
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
    }

    @Test("the root must be an SCXML document with a name and a valid initial")
    func rootChecks() {
        #expect(
            loadError(Data(#"<scxml name="x"><state id="a"/></scxml>"#.utf8))?.message
                .contains("the root element must be <scxml xmlns=\"http://www.w3.org/2005/07/scxml\">") == true)
        #expect(
            loadError(Data(#"<scxml xmlns="http://www.w3.org/2005/07/scxml"><state id="a"/></scxml>"#.utf8))?
                .message == "<scxml> needs a name=\"...\" attribute (letters, digits, _ or -)")
        #expect(
            loadError(Self.document(#"<state id="a"/>"#, initial: "zz"))?.message
                == "<scxml name=\"test\"> initial=\"zz\" is not a state of the chart")
        #expect(loadError(Self.document(""))?.message == "<scxml name=\"test\"> has no states")
    }

    @Test("a library refuses a chart whose name does not match its file")
    func libraryNameMismatch() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cellar-charts-\(#line)-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in StatechartLibrary.chartNames {
            let chartName = name == "cluster" ? "clusters" : name
            try Self.document(#"<state id="a"/>"#, name: chartName).write(to: directory.appendingPathComponent("\(name).scxml"))
        }
        #expect(throws: StatechartLoadError.self) { try StatechartLibrary.load(directory: directory) }
        let missing = directory.appendingPathComponent("none")
        #expect(throws: StatechartLoadError.self) { try StatechartLibrary.load(directory: missing) }
    }
}
