import Foundation
import Testing

@testable import Secrets

@Suite("Password verifiers")
struct PasswordVerifierTests {
    static let rfcSalt = Array(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")!)

    @Test("SCRAM-SHA-256 of RFC 7677's example password and salt")
    func scramVector() {
        #expect(
            PasswordVerifier.scramSHA256("pencil", salt: Self.rfcSalt)
                == "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        )
    }

    @Test("a non-ASCII password is NFKC-normalized first, as PostgreSQL's SASLprep does")
    func scramNormalizes() {
        let composed = PasswordVerifier.scramSHA256("\u{E9}数据", salt: Self.rfcSalt)
        #expect(composed == PasswordVerifier.scramSHA256("e\u{301}数据", salt: Self.rfcSalt))
        #expect(composed.hasSuffix("$27MCmxrOSgnPnIjQFWBPoTZRB+ZV0EPyXasnJ3Qy7JE=:6G3rWHoxLgtolv+G7BPldSFRxkvyMCNuh0uEB2Razm4="))
    }

    @Test("a new salt every time, and only characters no SQL quoting mode treats specially")
    func scramSaltAndAlphabet() {
        let password = "x'; GRANT ALL --\\"
        let first = PasswordVerifier.scramSHA256(password)
        let second = PasswordVerifier.scramSHA256(password)
        #expect(first != second)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-$:+/="))
        #expect(first.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains($0) })
    }

    @Test("mysql_native_password: * and SHA1(SHA1(password)) in upper-case hex")
    func mysqlNative() {
        #expect(PasswordVerifier.mysqlNativePassword("password") == "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19")
        #expect(PasswordVerifier.mysqlNativePassword("x'; GRANT ALL --\\").allSatisfy { $0 == "*" || $0.isHexDigit })
    }
}
