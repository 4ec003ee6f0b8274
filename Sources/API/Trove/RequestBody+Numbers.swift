import APICore
import Foundation

extension RequestBody {
    /// Which number of a valid JSON body `T` cannot take, for the "not valid JSON" JSONDecoder answers without a
    /// path when a number does not fit its field (`1.5` or `1e20` for an integer).
    ///
    /// Every number that is not an `Int` is written as a string and `T` decoded again: the field that then
    /// complains about a string where it wants an integer is the one. A field that takes any number complains
    /// too; it gets its number back and the search goes on.
    static func misfitNumber<T: Decodable>(_ type: T.Type, in document: JSONTree) -> String {
        var suspects: Set<String> = []
        _ = document.first { path, value -> Void? in
            switch value {
            case .number, .unrepresentable: suspects.insert(path)
            case .null, .bool, .integer, .string, .array, .object: break
            }
            return nil
        }
        let fallback = "A number in the request body does not fit its field (an integer is expected where the API reference says so)."
        for _ in 0...suspects.count {
            do {
                _ = try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(document.numbersAsText(at: suspects)))
                return fallback
            } catch DecodingError.typeMismatch(let expected, let context) {
                let field = path(context.codingPath)
                guard suspects.contains(field) else { return fallback }
                if expected is Int.Type || expected is Int64.Type || expected is Int32.Type {
                    return "Invalid type for '\(field)': expected an integer."
                }
                guard case .number? = document.value(at: field) else { return "'\(field)' is too large a number." }
                suspects.remove(field)
            } catch {
                return fallback
            }
        }
        return fallback
    }
}

extension JSONTree {
    /// The document with the numbers at `paths` written as strings.
    func numbersAsText(at paths: Set<String>, path: String = "") -> JSONTree {
        switch self {
        case .number(let value) where paths.contains(path): .string("\(value)")
        case .unrepresentable where paths.contains(path): .string("a number too large")
        case .array(let items):
            .array(items.enumerated().map { index, item in item.numbersAsText(at: paths, path: "\(path)[\(index)]") })
        case .object(let members):
            .object(
                Dictionary(
                    uniqueKeysWithValues: members.map { key, member in
                        (key, member.numbersAsText(at: paths, path: path.isEmpty ? key : "\(path).\(key)"))
                    }))
        case .null, .bool, .integer, .number, .unrepresentable, .string: self
        }
    }

    /// The value at `path` (as `first` names paths).
    func value(at wanted: String) -> JSONTree? {
        first { path, value in path == wanted ? value : nil }
    }
}
