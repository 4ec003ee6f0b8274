import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Identity
import Testing

/// A control character anywhere in an identity request is a 400 in Keystone's shape naming the field, never a
/// 5xx (PostgreSQL cannot hold a NUL) and never a token.
@Suite("Identity: control characters are refused with Keystone's 400", .tags(.postgres))
struct ControlCharacterRoutesTests {
    @Test(
        "a NUL in the user name, the password or the project name of POST /v3/auth/tokens",
        arguments: [
            (Fixtures.passwordBody(user: "a\u{0}b"), "'auth.identity.password.user.name'"),
            (Fixtures.passwordBody(password: "correct\u{0}horse"), "'auth.identity.password.user.password'"),
            (Fixtures.passwordBody(project: "de\u{1}mo"), "'auth.scope.project.name'"),
            (Fixtures.passwordBody(password: "tab\tinside"), "'auth.identity.password.user.password'"),
        ])
    func tokenBodies(body: String, field: String) async throws {
        try await Fixtures.withDemo { store, _, _ in
            try await Fixtures.app(store).test(.router) { client in
                for path in ["/v3/auth/tokens", "/identity/v3/auth/tokens"] {
                    try await client.execute(uri: path, method: .post, body: ByteBuffer(string: body)) { response in
                        #expect(response.status == .badRequest)
                        #expect(response.headers[Fixtures.subjectToken] == nil)
                        let error = try Fixtures.keystoneError(response.body)
                        #expect(error.code == 400)
                        #expect(error.title == "Bad Request")
                        #expect(error.message.hasPrefix("\(field) contains a control character (U+"), "\(error.message)")
                        #expect(!error.message.contains("horse") && !error.message.contains("inside"))
                    }
                }
            }
        }
    }

    @Test("path, query and header values (the tokens included)")
    func pathQueryAndHeaders() async throws {
        try await Fixtures.withDemo { store, _, _ in
            let token = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo")).token
            try await Fixtures.app(store).test(.router) { client in
                let cases: [(String, HTTPRequest.Method, HTTPFields, String)] = [
                    ("/v3/users/a%00b/projects", .get, [Fixtures.authToken: token], "path parameter 'user_id'"),
                    (
                        "/v3/auth/tokens?nocatalog=%00", .get, [Fixtures.authToken: token, Fixtures.subjectToken: token],
                        "query parameter 'nocatalog'"
                    ),
                    ("/v3/auth/tokens", .get, [Fixtures.authToken: token, Fixtures.subjectToken: "x\ty"], "header 'X-Subject-Token'"),
                    ("/v3/auth/projects", .get, [Fixtures.authToken: "to\tken"], "header 'X-Auth-Token'"),
                    ("/identity?x=%7F", .get, [:], "query parameter 'x'"),
                ]
                for (uri, method, headers, subject) in cases {
                    try await client.execute(uri: uri, method: method, headers: headers) { response in
                        #expect(response.status == .badRequest, "\(uri)")
                        let error = try Fixtures.keystoneError(response.body)
                        #expect(error.code == 400)
                        #expect(error.message.hasPrefix("\(subject) contains a control character (U+"), "\(uri): \(error.message)")
                    }
                }
            }
        }
    }
}
