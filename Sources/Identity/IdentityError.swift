/// Why an identity operation was refused. Small `Equatable` values, so tests can `#expect(throws:)`.
///
/// `invalidCredentials` covers an unknown user, a wrong password and a disabled user alike, so an answer never
/// reveals which names exist. The HTTP mapping lives in one place, `KeystoneError`.
public enum IdentityError: Error, Equatable, Sendable {
    /// Unknown user, wrong password, or disabled user (one case on purpose).
    case invalidCredentials
    /// The scope asks for a project that does not exist, is disabled, or where the user holds no role.
    case invalidScope
    /// The request names no project and the user has no usable default project (troveclient always scopes).
    case unscopedTokenRefused
    /// An authentication method other than `password` was asked for.
    case unsupportedMethod(String)
    /// The request body is not what Keystone accepts; the text says which part (never a password).
    case malformedRequest(String)
    /// A password that cannot be stored (empty or longer than 4096 bytes).
    case invalidPassword
    /// A name that cannot be stored (empty or too long).
    case invalidName(String)
    /// No project with this name or id.
    case projectNotFound(String)
    /// No user with this name or id.
    case userNotFound(String)
    /// No role with this name.
    case roleNotFound(String)
    /// A project with this name exists already.
    case projectExists(String)
    /// A user with this name exists already in the domain.
    case userExists(String)
    /// A token that is unknown, expired or revoked.
    case tokenNotFound
    /// The caller lacks the role the operation needs; the text names the Keystone policy.
    case forbidden(String)
    /// Too many wrong passwords in a row for this user (Keystone's lockout): refused until the lockout ends.
    case accountLocked
    /// Too many failed logins from this address: refused, without checking, for this many more seconds.
    case tooManyFailedLogins(retryAfterSeconds: Int)
}

extension IdentityError: CustomStringConvertible {
    /// A message for operators and the command line (never contains a password or a token).
    public var description: String {
        switch self {
        case .invalidCredentials: "invalid user name or password"
        case .invalidScope: "the requested project does not exist, is disabled, or the user has no role on it"
        case .unscopedTokenRefused: "the request must be scoped to a project"
        case .unsupportedMethod(let method): "unsupported authentication method \(method)"
        case .malformedRequest(let detail): "malformed request: \(detail)"
        case .invalidPassword: "passwords must be 1 to \(PasswordHasher.maximumPasswordBytes) bytes long"
        case .invalidName(let detail): "invalid name: \(detail)"
        case .projectNotFound(let name): "no project \(name)"
        case .userNotFound(let name): "no user \(name)"
        case .roleNotFound(let name): "no role \(name)"
        case .projectExists(let name): "a project named \(name) exists already"
        case .userExists(let name): "a user named \(name) exists already"
        case .tokenNotFound: "the token is unknown, expired or revoked"
        case .forbidden(let policy): "not allowed: \(policy)"
        case .accountLocked: "the account is locked after too many failed logins; try again later"
        case .tooManyFailedLogins(let seconds): "too many failed logins from this address; try again in \(seconds) s"
        }
    }
}
