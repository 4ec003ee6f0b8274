import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Identity
import Testing

@Suite("Identity errors in Keystone's shape", .tags(.postgres))
struct ErrorRoutesTests {
    @Test("unknown user and wrong password: the same 401 and message, and the password is never echoed")
    func unauthorized() async throws {
        try await Fixtures.withDemo { store, _, _ in
            try await Fixtures.app(store).test(.router) { client in
                var answers: [String] = []
                for body in [
                    Fixtures.passwordBody(user: "nobody"), Fixtures.passwordBody(password: "hunter2-wrong"),
                    Fixtures.passwordBody(project: "no-such-project"),
                ] {
                    try await client.execute(uri: "/v3/auth/tokens", method: .post, body: ByteBuffer(string: body)) { response in
                        #expect(response.status == .unauthorized)
                        #expect(response.headers[Fixtures.subjectToken] == nil)
                        let text = String(buffer: response.body)
                        #expect(!text.contains("hunter2"))
                        #expect(!text.contains(Fixtures.password))
                        answers.append(text)
                        let error = try Fixtures.keystoneError(response.body)
                        #expect(error.code == 401)
                        #expect(error.title == "Unauthorized")
                        #expect(error.message == "The request you have made requires authentication.")
                    }
                }
                #expect(Set(answers).count == 1)
            }
        }
    }

    @Test(
        "malformed bodies: 400 with Keystone's error body, never a 5xx",
        arguments: [
            "", "{", "null", "[]", "{}", #"{"auth": 5}"#, #"{"auth": {"identity": {"methods": ["password"]}}}"#,
            #"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "password": "x"}}}}}"#,
            #"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": 7, "password": "x"}}}}}"#,
            #"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "u", "password": ["x"]}}}}}"#,
            #"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "u", "password": "x"}}}, "scope": {"project": {"name": "demo"}}}}"#,
            "\u{00}\u{ff}binary",
        ])
    func badRequest(body: String) async throws {
        try await Fixtures.withDemo { store, _, _ in
            try await Fixtures.app(store).test(.router) { client in
                try await client.execute(uri: "/v3/auth/tokens", method: .post, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest)
                    let error = try Fixtures.keystoneError(response.body)
                    #expect(error.code == 400)
                    #expect(error.title == "Bad Request")
                }
            }
        }
    }

    @Test("an oversized body is refused without being read (413), other methods are 401")
    func oversizedAndUnsupported() async throws {
        try await Fixtures.withDemo { store, _, _ in
            try await Fixtures.app(store).test(.router) { client in
                let huge = ByteBuffer(string: String(repeating: " ", count: 100_000) + Fixtures.passwordBody())
                try await client.execute(uri: "/v3/auth/tokens", method: .post, body: huge) { response in
                    #expect(response.status == .contentTooLarge)
                    let error = try Fixtures.keystoneError(response.body)
                    #expect(error.code == 413)
                }
                let tokenMethod = #"{"auth": {"identity": {"methods": ["token"], "token": {"id": "abc"}}}}"#
                try await client.execute(uri: "/v3/auth/tokens", method: .post, body: ByteBuffer(string: tokenMethod)) { response in
                    #expect(response.status == .unauthorized)
                }
            }
        }
    }
}
