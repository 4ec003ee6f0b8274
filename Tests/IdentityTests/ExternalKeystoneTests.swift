import API
import APICore
import CellarTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Identity
import Testing

/// `CELLAR_KEYSTONE_URL`: tokens validated by another Keystone over HTTP. The Keystone here is a live server
/// speaking the Keystone v3 API (Cellar's own identity routes on a real port), reached over real HTTP.
@Suite("Validating tokens against an external Keystone", .tags(.postgres))
struct ExternalKeystoneTests {
    @Test("a valid token gives its caller, a bad one nil; answers are cached; an unreachable Keystone is a 503")
    func validation() async throws {
        try await Fixtures.withDemo { store, demo, _ in
            _ = try await store.createProject(name: "service")
            _ = try await store.createUser(name: "cellar", password: "service-secret", defaultProject: "service", roles: ["admin"])
            let issued = try await store.authenticate(.names(user: "demo", password: Fixtures.password, project: "demo"))
            let router = Router()
            router.addIdentityRoutes(store: store, catalog: ServiceCatalog(publicURL: nil))
            try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
                let port = try #require(client.port)
                let keystone = KeystoneTokenValidator(
                    configuration: .init(
                        authURL: "http://127.0.0.1:\(port)/v3/", serviceUser: "cellar", servicePassword: "service-secret", serviceProject: "service"))
                let caller = try #require(try await keystone.validate(token: issued.token))
                #expect(caller.userID == demo.user.id)
                #expect(caller.projectID == demo.project.id)
                #expect(Set(caller.roles) == ["member", "reader"])
                #expect(try await keystone.validate(token: "not-a-token") == nil)

                // Cached: revoking at the source is seen only after the cache time (60 s by default).
                _ = try await store.revoke(token: issued.token)
                #expect(try await keystone.validate(token: issued.token) == caller)
                let uncached = KeystoneTokenValidator(
                    configuration: .init(
                        authURL: "http://127.0.0.1:\(port)/v3", serviceUser: "cellar", servicePassword: "service-secret",
                        serviceProject: "service", cacheFor: .seconds(0)))
                #expect(try await uncached.validate(token: issued.token) == nil)

                let wrongService = KeystoneTokenValidator(
                    configuration: .init(
                        authURL: "http://127.0.0.1:\(port)/v3", serviceUser: "cellar", servicePassword: "wrong", serviceProject: "service"))
                await #expect(throws: TroveError.self) { try await wrongService.validate(token: issued.token) }
            }
            let gone = KeystoneTokenValidator(
                configuration: .init(
                    authURL: "http://127.0.0.1:1/v3", serviceUser: "cellar", servicePassword: "service-secret", serviceProject: "service"))
            await #expect { try await gone.validate(token: issued.token) } throws: { error in
                (error as? TroveError)?.status == .serviceUnavailable
            }
        }
    }
}
