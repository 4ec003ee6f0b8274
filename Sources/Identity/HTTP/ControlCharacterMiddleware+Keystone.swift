import APICore
import Hummingbird

extension ControlCharacterMiddleware {
    /// The gate of the identity routes: 400 in Keystone's shape, `{"error": {"code": 400, "message": ..., "title":
    /// "Bad Request"}}`.
    static var keystone: Self {
        Self { message in KeystoneError(IdentityError.malformedRequest(message)).response }
    }
}
