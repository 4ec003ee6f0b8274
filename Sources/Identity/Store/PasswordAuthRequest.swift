import APICore
import Foundation

/// A Keystone-v3 password authentication request, checked and normalized (what `POST /v3/auth/tokens` carries).
///
/// Its descriptions and mirror hide the password, so logging or dumping a request never prints it.
public struct PasswordAuthRequest: Sendable, Equatable {
    /// How the request names the user.
    public enum UserReference: Sendable, Equatable {
        /// By user id.
        case id(String)
        /// By name within a domain.
        case name(String, domain: DomainReference)
    }

    /// How the request names the project to scope the token to.
    public enum ProjectReference: Sendable, Equatable {
        /// By project id.
        case id(String)
        /// By name within a domain.
        case name(String, domain: DomainReference)
    }

    /// The user.
    public var user: UserReference
    /// The password, in clear: keep it in memory only.
    public var password: String
    /// The project scope; nil asks for the user's default project.
    public var project: ProjectReference?

    /// A request for `user` with `password`, scoped to `project`.
    public init(user: UserReference, password: String, project: ProjectReference?) {
        self.user = user
        self.password = password
        self.project = project
    }

    /// By user and project names in the default domain (the common case, and troveclient's).
    public static func names(user: String, password: String, project: String) -> PasswordAuthRequest {
        PasswordAuthRequest(
            user: .name(user, domain: .id(DefaultDomain.id)), password: password,
            project: .name(project, domain: .id(DefaultDomain.id)))
    }
}

extension PasswordAuthRequest: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The request without its password.
    public var description: String { "PasswordAuthRequest(user: \(user), password: ***, project: \(project.map { "\($0)" } ?? "default"))" }
    /// The request without its password.
    public var debugDescription: String { description }
    /// A mirror without the password.
    public var customMirror: Mirror { Mirror(self, children: ["user": user, "project": project as Any]) }
}

extension PasswordAuthRequest {
    /// Parses a Keystone `{"auth": {"identity": ..., "scope": ...}}` body.
    ///
    /// - Throws: `IdentityError.malformedRequest` (HTTP 400) for bad JSON, missing fields or a control character
    ///   in any string (naming the field, never its value),
    ///   `.unsupportedMethod` for methods other than `password`, `.unscopedTokenRefused` for an explicit
    ///   `"scope": "unscoped"`, and `.invalidScope` for domain, system or trust scopes.
    public init(json: [UInt8]) throws(IdentityError) {
        // No control character in any string: a NUL cannot reach PostgreSQL, nor the password hasher.
        if let problem = ControlCharacters.problem(inJSON: json) { throw .malformedRequest(problem) }
        let body: AuthBody
        do {
            body = try JSONDecoder().decode(AuthBody.self, from: Data(json))
        } catch let error as DecodingError {
            throw .malformedRequest(Self.explain(error))
        } catch {
            throw .malformedRequest("the body is not JSON")
        }
        guard let auth = body.auth else { throw Self.missing("auth", in: "the request body") }
        guard let identity = auth.identity else { throw Self.missing("identity", in: "auth") }
        guard let methods = identity.methods else { throw Self.missing("methods", in: "identity") }
        if let other = methods.first(where: { $0 != "password" }) { throw .unsupportedMethod(other) }
        guard methods.contains("password") else { throw .malformedRequest("methods must contain password") }
        guard let password = identity.password else { throw Self.missing("password", in: "identity") }
        guard let user = password.user else { throw Self.missing("user", in: "password") }
        guard let secret = user.password else { throw Self.missing("password", in: "user") }

        let userReference: UserReference
        if let id = user.id {
            userReference = .id(id)
        } else if let name = user.name {
            guard let domain = user.domain else { throw Self.missing("domain", in: "user") }
            userReference = .name(name, domain: try Self.domain(domain, in: "user"))
        } else {
            throw Self.missing("id or name", in: "user")
        }

        let projectReference: ProjectReference?
        switch auth.scope {
        case nil:
            projectReference = nil
        case .unscoped:
            throw .unscopedTokenRefused
        case .other:
            throw .invalidScope
        case .project(let project):
            if let id = project.id {
                projectReference = .id(id)
            } else if let name = project.name {
                guard let domain = project.domain else { throw Self.missing("domain", in: "project") }
                projectReference = .name(name, domain: try Self.domain(domain, in: "project"))
            } else {
                throw Self.missing("id or name", in: "project")
            }
        }
        self.init(user: userReference, password: secret, project: projectReference)
    }

    private static func domain(_ wire: AuthBody.Domain, in target: String) throws(IdentityError) -> DomainReference {
        if let id = wire.id { return .id(id) }
        if let name = wire.name { return .name(name) }
        throw missing("id or name", in: "\(target) domain")
    }

    /// Keystone's wording for a missing attribute.
    private static func missing(_ attribute: String, in target: String) -> IdentityError {
        .malformedRequest("Expecting to find \(attribute) in \(target).")
    }

    /// Names the field at fault, never its value (it may be a password).
    private static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "the request body" : keys.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "Invalid input for field \(path(context)): wrong type."
        case .keyNotFound(let key, let context):
            return "Expecting to find \(key.stringValue) in \(path(context))."
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "The request body is not valid JSON." : "Invalid input for field \(path(context))."
        @unknown default:
            return "The request body could not be read."
        }
    }
}

/// The wire shape of a Keystone authentication body; every field optional so the checks above can name what is missing.
private struct AuthBody: Decodable {
    struct Auth: Decodable {
        var identity: Identity?
        var scope: Scope?
    }
    struct Identity: Decodable {
        var methods: [String]?
        var password: PasswordMethod?
    }
    struct PasswordMethod: Decodable {
        var user: UserEntry?
    }
    struct UserEntry: Decodable {
        var id: String?
        var name: String?
        var domain: Domain?
        var password: String?
    }
    struct Domain: Decodable {
        var id: String?
        var name: String?
    }
    struct ProjectEntry: Decodable {
        var id: String?
        var name: String?
        var domain: Domain?
    }
    /// `"unscoped"`, `{"project": ...}`, or another scope Cellar does not issue (domain, system, trust).
    enum Scope: Decodable {
        case unscoped
        case project(ProjectEntry)
        case other

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            if let word = try? decoder.singleValueContainer().decode(String.self), word == "unscoped" {
                self = .unscoped
                return
            }
            let container = try decoder.container(keyedBy: Key.self)
            let project = Key(stringValue: "project")
            if container.contains(project) {
                self = .project(try container.decode(ProjectEntry.self, forKey: project))
            } else {
                self = container.allKeys.isEmpty ? .unscoped : .other
            }
        }
    }
    var auth: Auth?
}
