import Hummingbird

/// An error as Keystone answers it: `{"error": {"code": 401, "message": "...", "title": "Unauthorized"}}`.
///
/// The one place where identity failures become HTTP statuses. Every authentication failure gets the same
/// message, so an answer never tells an unknown user from a wrong password.
public struct KeystoneError: Error, Sendable, Equatable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The `message` member.
    public var message: String

    /// An error with this status and message.
    public init(status: HTTPResponse.Status, message: String) {
        self.status = status
        self.message = message
    }

    /// Keystone's answer to any failed authentication.
    public static let unauthorized = KeystoneError(status: .unauthorized, message: "The request you have made requires authentication.")

    /// The answer to an identity error.
    public init(_ error: IdentityError) {
        switch error {
        case .invalidCredentials, .invalidScope, .unscopedTokenRefused, .unsupportedMethod:
            self = .unauthorized
        case .malformedRequest(let detail):
            self.init(status: .badRequest, message: Self.badRequest(detail))
        case .invalidPassword, .invalidName:
            self.init(status: .badRequest, message: Self.badRequest(error.description))
        case .projectNotFound(let name):
            self.init(status: .notFound, message: "Could not find project: \(name).")
        case .userNotFound(let name):
            self.init(status: .notFound, message: "Could not find user: \(name).")
        case .roleNotFound(let name):
            self.init(status: .notFound, message: "Could not find role: \(name).")
        case .tokenNotFound:
            self.init(status: .notFound, message: "Could not find token.")
        case .projectExists:
            self.init(status: .conflict, message: "Conflict occurred attempting to store project - Duplicate entry.")
        case .userExists:
            self.init(status: .conflict, message: "Conflict occurred attempting to store user - Duplicate entry.")
        case .forbidden(let policy):
            self.init(status: .forbidden, message: "You are not authorized to perform the requested action: \(policy).")
        case .accountLocked:
            // Keystone's words; the user's id is left out, so the answer names no account.
            self.init(status: .unauthorized, message: "The account is locked. Try again later or ask an administrator.")
        case .tooManyFailedLogins(let seconds):
            self.init(status: .tooManyRequests, message: "Too many failed logins from this address. Try again in \(seconds) seconds.")
        }
    }

    /// Keystone's `title` for the status.
    public var title: String {
        switch status.code {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 409: "Conflict"
        case 413: "Request Entity Too Large"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        default: status.reasonPhrase
        }
    }

    /// The error as an HTTP response.
    public var response: Response {
        let body: KeystoneJSON = ["error": ["code": .int(status.code), "message": .string(message), "title": .string(title)]]
        return body.response(status: status)
    }

    private static func badRequest(_ detail: String) -> String {
        "\(detail) The server could not comply with the request since it is either malformed or otherwise incorrect. "
            + "The client is assumed to be in error."
    }
}
