import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An XML element with its names resolved against the namespace declarations in scope.
struct SCXMLElement: Sendable {
    /// One attribute; `namespace` is nil for unprefixed attributes.
    struct Attribute: Sendable {
        let namespace: String?
        let name: String
        let qualifiedName: String
        let value: String
    }

    let namespace: String?
    let name: String
    let qualifiedName: String
    let attributes: [Attribute]
    let line: Int
    var children: [SCXMLElement] = []

    /// The value of the attribute `name` in `namespace` (nil namespace: unprefixed).
    func attribute(_ name: String, namespace: String? = nil) -> String? {
        attributes.first { $0.name == name && $0.namespace == namespace }?.value
    }

    /// `<transition event="X" target="y">`, for error messages.
    var tag: String {
        let shown = attributes.map { "\($0.qualifiedName)=\"\($0.value)\"" }
        return "<" + ([qualifiedName] + shown).joined(separator: " ") + ">"
    }
}

/// Reads an XML document into `SCXMLElement`s with FoundationXML's `XMLParser`.
///
/// Namespaces are resolved here (not by `XMLParser`, whose prefix reporting differs between platforms).
/// Text other than whitespace, and any XML error, fails the load.
final class SCXMLDocumentParser: NSObject, XMLParserDelegate {
    static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"

    private let source: String
    private var stack: [SCXMLElement] = []
    private var scopes: [[String: String]] = [["xml": xmlNamespace]]
    private var root: SCXMLElement?
    private var failure: StatechartLoadError?

    private init(source: String) {
        self.source = source
    }

    /// Parses `data`; `source` names it in errors.
    static func parse(_ data: Data, source: String) throws -> SCXMLElement {
        let delegate = SCXMLDocumentParser(source: source)
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = delegate
        let finished = parser.parse()
        if let failure = delegate.failure { throw failure }
        // XMLParser may report success while having reported an error (seen on Linux), so check both,
        // and it accepts a document that simply stops inside an element.
        if !finished || parser.parserError != nil {
            let reason = parser.parserError.map(describe) ?? "unknown error"
            throw StatechartLoadError(source: source, line: parser.lineNumber, message: "malformed XML: \(reason)")
        }
        if let open = delegate.stack.last {
            throw StatechartLoadError(
                source: source, line: parser.lineNumber,
                message: "malformed XML: the document ends before <\(open.qualifiedName)> (line \(open.line)) is closed")
        }
        guard let root = delegate.root else {
            throw StatechartLoadError(source: source, line: nil, message: "malformed XML: the document has no root element")
        }
        return root
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        guard failure == nil else { return }
        var scope = scopes.last ?? [:]
        for (key, value) in attributeDict {
            if key == "xmlns" { scope[""] = value }
            if key.hasPrefix("xmlns:") { scope[String(key.dropFirst("xmlns:".count))] = value }
        }
        scopes.append(scope)
        let line = parser.lineNumber
        let (prefix, local) = Self.split(elementName)
        guard let namespace = prefix.map({ scope[$0] }) ?? scope[""] else {
            if let prefix {
                return fail(line, "<\(elementName)> uses the undeclared namespace prefix \"\(prefix)\"", parser)
            }
            return push(SCXMLElement(namespace: nil, name: local, qualifiedName: elementName, attributes: [], line: line))
        }
        var attributes: [SCXMLElement.Attribute] = []
        for key in attributeDict.keys.sorted() where key != "xmlns" && !key.hasPrefix("xmlns:") {
            let (attributePrefix, attributeName) = Self.split(key)
            var attributeNamespace: String?
            if let attributePrefix {
                guard let resolved = scope[attributePrefix] else {
                    return fail(line, "<\(elementName)> attribute \(key) uses an undeclared namespace prefix", parser)
                }
                attributeNamespace = resolved
            }
            attributes.append(
                .init(
                    namespace: attributeNamespace, name: attributeName, qualifiedName: key, value: attributeDict[key] ?? ""))
        }
        push(
            SCXMLElement(
                namespace: namespace.isEmpty ? nil : namespace, name: local, qualifiedName: elementName,
                attributes: attributes, line: line))
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
        guard failure == nil, let element = stack.popLast() else { return }
        scopes.removeLast()
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard failure == nil else { return }
        let text = string.trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty {
            let inside = stack.last.map { " inside <\($0.qualifiedName)>" } ?? ""
            fail(parser.lineNumber, "unexpected text \"\(text.prefix(40))\"\(inside); the subset has no text content", parser)
        }
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard failure == nil else { return }
        fail(parser.lineNumber, "unexpected CDATA section; the subset has no text content", parser)
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        guard failure == nil else { return }
        failure = StatechartLoadError(
            source: source, line: parser.lineNumber, message: "malformed XML: \(Self.describe(parseError))")
    }

    /// `XMLParser` errors carry only a code, libxml2's (`xmlParserErrors`); name the common ones.
    private static func describe(_ error: any Error) -> String {
        let code = (error as NSError).code
        let known: [Int: String] = [
            4: "the document is empty",
            5: "the document ends early or has content after its root element",
            26: "an undeclared entity is used",
            38: "an attribute value is not quoted",
            39: "an attribute has no value",
            41: "an attribute has no value",
            42: "an attribute is given twice",
            73: "a tag is not closed with '>'",
            76: "an end tag does not match its start tag",
            77: "an element is not closed",
            201: "an undeclared namespace prefix is used",
        ]
        return known[code].map { "\($0) (XML error \(code))" } ?? "XML error \(code)"
    }

    private func push(_ element: SCXMLElement) {
        stack.append(element)
    }

    private func fail(_ line: Int, _ message: String, _ parser: XMLParser) {
        failure = StatechartLoadError(source: source, line: line, message: message)
        parser.abortParsing()
    }

    private static func split(_ name: String) -> (prefix: String?, local: String) {
        guard let colon = name.firstIndex(of: ":") else { return (nil, name) }
        return (String(name[..<colon]), String(name[name.index(after: colon)...]))
    }
}
