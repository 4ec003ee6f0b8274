/// Passwords Cellar makes for people (root passwords): 24 characters without look-alikes (no l, o, 0, 1, I, O).
public enum RandomPassword {
    static let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    /// A new password from the system's secure random source.
    public static func make(length: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}
