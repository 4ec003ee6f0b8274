import Foundation
import Identity
import Testing

@Suite("Keystone password request bodies")
struct PasswordAuthRequestTests {
    private func parse(_ json: String) throws(IdentityError) -> PasswordAuthRequest {
        try PasswordAuthRequest(json: Array(json.utf8))
    }

    @Test("troveclient's body: user and project by name in domain Default")
    func byName() throws {
        let request = try parse(Fixtures.passwordBody(user: "demo", password: "secret", project: "demo"))
        #expect(
            request
                == PasswordAuthRequest(
                    user: .name("demo", domain: .name("Default")), password: "secret",
                    project: .name("demo", domain: .name("Default"))))
    }

    @Test("by ids, and with domain ids")
    func byID() throws {
        #expect(
            try parse(Fixtures.passwordBody(userID: "u1", projectID: "p1", password: "pw"))
                == PasswordAuthRequest(user: .id("u1"), password: "pw", project: .id("p1")))
        let request = try parse(
            """
            {"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"a","domain":{"id":"default"},"password":"p"}}},
             "scope":{"project":{"name":"b","domain":{"id":"default"}}}}}
            """)
        #expect(request.user == .name("a", domain: .id("default")))
        #expect(request.project == .name("b", domain: .id("default")))
    }

    @Test("no scope asks for the default project; \"unscoped\" and other scopes are refused")
    func scopes() throws {
        let identity = #""identity":{"methods":["password"],"password":{"user":{"id":"u","password":"p"}}}"#
        #expect(try parse("{\"auth\":{\(identity)}}").project == nil)
        #expect(throws: IdentityError.unscopedTokenRefused) { try parse("{\"auth\":{\(identity),\"scope\":\"unscoped\"}}") }
        #expect(throws: IdentityError.invalidScope) { try parse("{\"auth\":{\(identity),\"scope\":{\"domain\":{\"id\":\"default\"}}}}") }
        #expect(throws: IdentityError.invalidScope) { try parse("{\"auth\":{\(identity),\"scope\":{\"system\":{\"all\":true}}}}") }
    }

    @Test("methods other than password are not supported")
    func methods() {
        #expect(throws: IdentityError.unsupportedMethod("token")) {
            try parse(#"{"auth":{"identity":{"methods":["token"],"token":{"id":"x"}}}}"#)
        }
    }

    @Test(
        "malformed bodies name the part at fault and never the password",
        arguments: [
            "", "not json", "[]", "{}", #"{"auth":{}}"#, #"{"auth":{"identity":{}}}"#,
            #"{"auth":{"identity":{"methods":[]}}}"#,
            #"{"auth":{"identity":{"methods":["password"]}}}"#,
            #"{"auth":{"identity":{"methods":["password"],"password":{}}}}"#,
            #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"u"}}}}}"#,
            #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"u","password":"hunter2"}}}}}"#,
            #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"password":"hunter2"}}}}}"#,
            #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"u","password":12345}}}}}"#,
            #"{"auth":{"identity":{"methods":"password","password":{"user":{"id":"u","password":"hunter2"}}}}}"#,
            #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"u","password":"hunter2"}}},"scope":{"project":{}}}}"#,
            #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"u","password":"hunter2"}}},"scope":{"project":{"name":"p"}}}}"#,
            #"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"u","domain":{},"password":"hunter2"}}}}}"#,
        ])
    func malformed(body: String) {
        do {
            _ = try parse(body)
            Issue.record("accepted \(body)")
        } catch {
            guard case .malformedRequest(let detail) = error else {
                Issue.record("expected malformedRequest, got \(error)")
                return
            }
            #expect(!detail.contains("hunter2"))
            #expect(!detail.contains("12345"))
        }
    }

    @Test(
        "a control character in any string is malformed, naming the field and not the value",
        arguments: [
            (Fixtures.passwordBody(user: "a\u{0}b"), "'auth.identity.password.user.name'"),
            (Fixtures.passwordBody(password: "hunter2\u{0}"), "'auth.identity.password.user.password'"),
            (Fixtures.passwordBody(userID: "u\u{7F}", projectID: "p"), "'auth.identity.password.user.id'"),
            (#"{"auth":{"identity":{"methods":["password\n"]}}}"#, "'auth.identity.methods[0]'"),
        ])
    func controlCharacters(body: String, field: String) {
        #expect(throws: IdentityError.self) { try parse(body) }
        do {
            _ = try parse(body)
        } catch {
            guard case .malformedRequest(let detail) = error else {
                Issue.record("expected malformedRequest, got \(error)")
                return
            }
            #expect(detail.hasPrefix("\(field) contains a control character (U+"), "\(detail)")
            #expect(!detail.contains("hunter2"))
        }
    }

    @Test("printing a request hides its password")
    func redacted() throws {
        let request = try parse(Fixtures.passwordBody(user: "demo", password: "hunter2", project: "demo"))
        #expect(!"\(request)".contains("hunter2"))
        #expect(!String(reflecting: request).contains("hunter2"))
        var dumped = ""
        dump(request, to: &dumped)
        #expect(!dumped.contains("hunter2"))
    }
}
