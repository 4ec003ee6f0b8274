import APICore
import Foundation
import Hummingbird

/// Reads a JSON request body into `T`, turning every way it can be wrong into a 400 a person can act on: not
/// JSON, a missing or mistyped field (a number that does not fit its field included), or a control character in
/// any string at any depth (the gate every body passes).
enum RequestBody {
    static let maximumSize = 1 << 20

    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumSize)
        } catch {
            throw TroveError.overLimit("The request body is larger than \(maximumSize) bytes.")
        }
        guard buffer.readableBytes > 0 else { throw TroveError.badRequest("The request body is empty; a JSON object is expected.") }
        if let contentType = request.headers[.contentType], !contentType.lowercased().contains("json") {
            throw TroveError.badMediaType("Content-Type \(contentType) is not supported; send application/json.")
        }
        let bytes = Data(buffer.readableBytesView)
        guard String(data: bytes, encoding: .utf8) != nil else {
            throw TroveError.badRequest("The request body is not valid UTF-8; send JSON encoded as UTF-8.")
        }
        // The gate for control characters: every string of the body, at any depth, before any route reads it.
        let document = JSONTree.parse(bytes)
        if let document, let problem = ControlCharacters.problem(in: document) { throw TroveError.badRequest(problem) }
        do {
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch let error as DecodingError {
            // JSONDecoder calls a number that does not fit the field "not valid JSON", without saying where.
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty, let document {
                throw TroveError.badRequest(misfitNumber(T.self, in: document))
            }
            throw TroveError.badRequest(describe(error))
        } catch let error as TroveError {
            throw error
        }
    }

    /// `instance.users[0].name`: a coding path as the answers name fields.
    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    /// "Invalid type for 'instance.volume.size': expected an integer." and the like.
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, let context):
            return "Invalid type for '\(path(context.codingPath))': expected \(name(of: type))."
        case .valueNotFound(let type, let context):
            return "'\(path(context.codingPath))' must not be null: expected \(name(of: type))."
        case .keyNotFound(let key, let context):
            return "Missing '\(path(context.codingPath + [key]))' in the request body."
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "The request body is not valid JSON." }
            return "Invalid value for '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "The request body could not be read."
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default: String(describing: type).contains("Array") ? "a list" : "an object"
        }
    }
}

/// A JSON value that may be a string or an integer (`flavorRef` is sent as both).
struct StringOrInt: Decodable, Sendable {
    var value: String

    init(_ value: String) { self.value = value }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            value = string
        } else if let number = try? container.decode(Int.self) {
            value = String(number)
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a string or an integer"))
        }
    }
}
