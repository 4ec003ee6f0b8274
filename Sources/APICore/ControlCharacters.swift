import Foundation
import Hummingbird

/// The one rule for text Cellar accepts: no control characters (U+0000 to U+001F and U+007F), in any string of a
/// request: path segments, query names and values, header values (the token too), and every string and member name
/// of a JSON body at any depth, passwords included.
///
/// PostgreSQL cannot store a NUL in `text` or `jsonb`, a guest cannot pass one to its server, and a line break in
/// a name ends up in logs and configuration files. The answer names the field and the character, never the value
/// (it may be a password).
public enum ControlCharacters {
    /// The first control character of `text`, if it has one.
    public static func first(in text: some StringProtocol) -> Unicode.Scalar? {
        text.unicodeScalars.first { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// `'instance.users[0].name' contains a control character (U+0000); remove it.` for subject
    /// `'instance.users[0].name'`.
    public static func message(_ subject: String, _ character: Unicode.Scalar) -> String {
        let code = String(character.value, radix: 16, uppercase: true)
        return "\(subject) contains a control character (U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code)); remove it."
    }

    /// What is wrong with the path, query or headers of `request` (nil: nothing). `parameters` are the route's
    /// captures, named in the answer (`path parameter 'id'`).
    public static func problem(in request: Request, parameters: Parameters) -> String? {
        for (name, raw) in parameters {
            if let character = first(in: decoded(raw)) { return message("path parameter '\(name)'", character) }
        }
        if let character = first(in: decoded(request.uri.path)) { return message("the request path", character) }
        for (rawName, value) in request.uri.queryParameters {
            let name = decoded(rawName)
            if let character = first(in: name) { return message("a query parameter name", character) }
            if let character = first(in: value) { return message("query parameter '\(name)'", character) }
        }
        for field in request.headers {
            if let character = first(in: field.value) { return message("header '\(field.name.rawName)'", character) }
        }
        return nil
    }

    /// What is wrong with a JSON document (nil: nothing, or not JSON at all: the decoder explains that). Fields
    /// are named by their path, e.g. `'instance.users[0].password'`.
    public static func problem(inJSON bytes: some Collection<UInt8>) -> String? {
        JSONTree.parse(bytes).flatMap(problem(in:))
    }

    public static func problem(in document: JSONTree) -> String? {
        document.first { path, value -> String? in
            switch value {
            case .string(let text):
                return first(in: text).map { message(path.isEmpty ? "the request body" : "'\(path)'", $0) }
            case .object(let members):
                for key in members.keys.sorted() {
                    if let character = first(in: key) {
                        return message(path.isEmpty ? "a member name of the request body" : "a member name in '\(path)'", character)
                    }
                }
                return nil
            case .null, .bool, .integer, .number, .unrepresentable, .array:
                return nil
            }
        }
    }

    /// Percent-decoded text (as given when it is not valid percent-encoding).
    public static func decoded(_ text: some StringProtocol) -> String {
        String(text).removingPercentEncoding ?? String(text)
    }
}
