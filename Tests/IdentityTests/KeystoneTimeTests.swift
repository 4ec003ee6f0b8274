import Foundation
import Identity
import Testing

@Suite("Keystone timestamps and catalog")
struct KeystoneTimeTests {
    @Test("UTC, six fractional digits, Z")
    func format() {
        #expect(KeystoneTime.format(Date(timeIntervalSince1970: 1_893_456_000)) == "2030-01-01T00:00:00.000000Z")
        #expect(KeystoneTime.format(Date(timeIntervalSince1970: 1_893_456_000.123456)) == "2030-01-01T00:00:00.123456Z")
        #expect(KeystoneTime.format(Date(timeIntervalSince1970: 0.5)) == "1970-01-01T00:00:00.500000Z")
        #expect(KeystoneTime.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000000Z")
    }

    @Test("a configured public URL loses its trailing slashes")
    func publicURL() {
        #expect(ServiceCatalog(publicURL: "http://127.0.0.1:8779/").publicURL == "http://127.0.0.1:8779")
        #expect(ServiceCatalog(publicURL: nil).publicURL == nil)
        #expect(ServiceCatalog(publicURL: "http://h").region == "RegionOne")
    }

    @Test("identity errors map to Keystone statuses")
    func errorMapping() {
        #expect(KeystoneError(.invalidCredentials) == .unauthorized)
        #expect(KeystoneError(.invalidScope) == .unauthorized)
        #expect(KeystoneError(.unscopedTokenRefused) == .unauthorized)
        #expect(KeystoneError(.malformedRequest("x")).status == .badRequest)
        #expect(KeystoneError(.tokenNotFound).status == .notFound)
        #expect(KeystoneError(.forbidden("identity:list_users")).status == .forbidden)
        #expect(KeystoneError(.userExists("a")).status == .conflict)
        #expect(KeystoneError.unauthorized.title == "Unauthorized")
    }
}
