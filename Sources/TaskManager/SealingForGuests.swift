import GuestProtocol
import Secrets

extension GuestUser {
    /// This user with its password sealed for the guest whose box is `box` (and no clear password left).
    func sealed(with box: SecretBox) throws -> GuestUser {
        var copy = self
        copy.sealedPassword = try password.map { SealedPassword(sealed: try box.seal($0, context: SealedPassword.purpose(user: name))) }
        copy.password = nil
        return copy
    }
}

extension SealedPassword {
    /// The root password sealed for the guest whose box is `box`.
    static func root(_ password: String, box: SecretBox) throws -> SealedPassword {
        SealedPassword(sealed: try box.seal(password, context: rootPurpose))
    }
}
