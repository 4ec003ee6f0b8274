import Foundation
import Testing

@testable import Identity

@Suite("Password hashes")
struct PasswordHasherTests {
    @Test("a hash verifies its password and nothing else")
    func roundTrip() throws {
        let hasher = Fixtures.fastHasher
        let stored = try hasher.hash("s3cret pass")
        #expect(hasher.verify("s3cret pass", against: stored))
        #expect(!hasher.verify("s3cret pass ", against: stored))
        #expect(!hasher.verify("S3cret pass", against: stored))
        #expect(!hasher.verify("", against: stored))
    }

    @Test("format pbkdf2-sha256$<iterations>$<16-byte salt>$<32-byte hash>, a new salt every time")
    func format() throws {
        let hasher = Fixtures.fastHasher
        let first = try hasher.hash("same")
        let second = try hasher.hash("same")
        #expect(first != second)
        let parts = first.split(separator: "$").map(String.init)
        #expect(parts.count == 4)
        #expect(parts[0] == "pbkdf2-sha256")
        #expect(parts[1] == "\(PasswordHasher.minimumIterations)")
        #expect(Data(base64Encoded: parts[2])?.count == 16)
        #expect(Data(base64Encoded: parts[3])?.count == 32)
        #expect(!first.contains("same"))
    }

    @Test("the default is 210,000 iterations, and such a hash verifies")
    func defaultIterations() throws {
        let hasher = PasswordHasher()
        #expect(hasher.iterations == 210_000)
        let stored = try hasher.hash("slow but safe")
        #expect(stored.hasPrefix("pbkdf2-sha256$210000$"))
        #expect(hasher.verify("slow but safe", against: stored))
        #expect(!hasher.verify("fast and wrong", against: stored))
        // A hasher with another default still verifies the stored count.
        #expect(Fixtures.fastHasher.verify("slow but safe", against: stored))
    }

    @Test("a hash computed by another implementation verifies (Python's hashlib)")
    func knownVector() {
        // python3 -c "import hashlib,base64;print(base64.b64encode(hashlib.pbkdf2_hmac('sha256',b'passwd',b'salt',1000)).decode())"
        let stored = "pbkdf2-sha256$1000$\(Data("salt".utf8).base64EncodedString())$" + Self.referenceHash
        #expect(Fixtures.fastHasher.verify("passwd", against: stored))
        #expect(!Fixtures.fastHasher.verify("passwD", against: stored))
    }

    static let referenceHash = "+pwVjmeL/pQYmwsacHoJIWcv3J8R+peIBZad8xLCyO8="

    @Test("malformed or weakened stored values never verify")
    func malformed() throws {
        let hasher = Fixtures.fastHasher
        let good = try hasher.hash("pw")
        let parts = good.split(separator: "$").map(String.init)
        for stored in [
            "", "pw", "plain$pw", "pbkdf2-sha256$1000$\(parts[2])", "pbkdf2-sha1$1000$\(parts[2])$\(parts[3])",
            "pbkdf2-sha256$1$\(parts[2])$\(parts[3])", "pbkdf2-sha256$abc$\(parts[2])$\(parts[3])",
            "pbkdf2-sha256$1000$!!$\(parts[3])", "pbkdf2-sha256$1000$\(parts[2])$c2hvcnQ=",
        ] {
            #expect(!hasher.verify("pw", against: stored), "\(stored)")
        }
    }

    @Test("passwords longer than 4096 bytes are refused")
    func tooLong() {
        let long = String(repeating: "x", count: 4097)
        #expect(throws: IdentityError.invalidPassword) { try Fixtures.fastHasher.hash(long) }
        #expect(!Fixtures.fastHasher.verify(long, against: "pbkdf2-sha256$1000$AAAA$AAAA"))
    }

    @Test("constant-time comparison")
    func constantTime() {
        #expect(ConstantTime.equal([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equal([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equal([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equal([], []))
    }

    @Test("tokens, ids and generated passwords")
    func randomValues() {
        let token = SecureRandom.token()
        #expect(token.count == 43)
        #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(SecureRandom.token() != token)
        #expect(SecureRandom.identifier().count == 32)
        #expect(SecureRandom.identifier().allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(SecureRandom.tokenHash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let password = SecureRandom.password()
        #expect(password.count == 24)
        #expect(password != SecureRandom.password())
    }
}
