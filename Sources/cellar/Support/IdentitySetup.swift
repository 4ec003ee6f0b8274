import API
import APICore
import CellarCLI
import EventStore
import Foundation
import Hummingbird
import Identity
import LocalServers
import Logging
import PostgresNIO
import Secrets

/// Identity as `cellar up` / `cellar api` run it: the built-in service (routes, tokens, admin seeding), or an
/// existing Keystone when `CELLAR_KEYSTONE_URL` is set (then only token validation runs here).
struct IdentitySetup: Sendable {
    let store: IdentityStore
    let external: KeystoneTokenValidator?
    let catalog: ServiceCatalog
    let authURL: String
    /// Cellar's own tokens, validated from memory between changes.
    let tokenCache: TokenCache
    let logger: Logger

    struct MissingServicePassword: Error, CustomStringConvertible {
        var description: String { "CELLAR_KEYSTONE_URL is set, so CELLAR_KEYSTONE_SERVICE_PASSWORD must be too" }
    }

    init(
        client: PostgresClient, logger: Logger, publicURL: String?, authURL: String, caches: CacheInvalidation,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        store = IdentityStore(client: client, logger: logger, lockout: .fromEnvironment())
        tokenCache = TokenCache(store: store, invalidation: caches)
        catalog = ServiceCatalog(publicURL: publicURL)
        self.logger = logger
        if let keystone = environment["CELLAR_KEYSTONE_URL"], !keystone.isEmpty {
            guard let password = environment["CELLAR_KEYSTONE_SERVICE_PASSWORD"], !password.isEmpty else { throw MissingServicePassword() }
            external = KeystoneTokenValidator(
                configuration: .init(
                    authURL: keystone, serviceUser: environment["CELLAR_KEYSTONE_SERVICE_USER"] ?? "cellar",
                    servicePassword: password, serviceProject: environment["CELLAR_KEYSTONE_SERVICE_PROJECT"] ?? "service"))
            self.authURL = keystone
        } else {
            external = nil
            self.authURL = authURL
        }
    }

    var validator: any TokenValidator { external ?? tokenCache }
    /// Who signs web console users in: the same identity service that validates tokens.
    var consoleSignIn: any ConsoleSignIn { external ?? store }

    func addRoutes(to router: Router<CellarRequestContext>) {
        guard external == nil else { return }
        router.addIdentityRoutes(store: store, catalog: catalog)
    }

    /// Creates the `admin` user in project `admin` on first start and tells how to use its credentials.
    ///
    /// With a local stack the generated password is kept in `<state>/admin-credentials.json` and, as shell
    /// variables, `<state>/admin-openrc` (both mode 600); the password itself is printed only to a terminal, never
    /// into a log that stdout may be. Without a state folder it is printed once, when created, to a terminal only.
    func seedAdmin(stateDirectory: URL?) async throws {
        if external != nil {
            say("Tokens are validated by the Keystone at \(authURL); Cellar's own identity service is off.")
            return
        }
        let purged = try await store.purgeExpiredTokens()
        if purged > 0 { logger.info("removed expired tokens", metadata: ["count": "\(purged)"]) }
        let generated = SecureRandom.password()
        let created = try await store.ensureAdmin(password: generated)
        let file = stateDirectory?.appendingPathComponent("admin-credentials.json")
        let openrc = stateDirectory?.appendingPathComponent("admin-openrc")
        var password: String? = created ? generated : nil
        if !created, let file, let data = try? Data(contentsOf: file),
            let saved = try? JSONSerialization.jsonObject(with: data) as? [String: String]
        {
            password = saved["password"]
        }
        guard let password else {
            say("Admin user exists already; its password was shown when it was created.")
            return
        }
        let exports = """
            export OS_AUTH_URL=\(authURL) OS_USERNAME=admin OS_PASSWORD='\(password)' OS_PROJECT_NAME=admin \\
                   OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
            """
        if let file, let openrc {
            let credentials = [
                "auth_url": authURL, "username": "admin", "password": password, "project_name": "admin",
                "user_domain_name": "Default", "project_domain_name": "Default",
            ]
            try writePrivateFile(try JSONSerialization.data(withJSONObject: credentials, options: [.prettyPrinted, .sortedKeys]), to: file)
            try writePrivateFile(Data((exports + "\n").utf8), to: openrc)
            if isatty(STDOUT_FILENO) == 1 {
                say("Admin credentials (project admin, domain Default):\n  \(exports)\n  (kept in \(openrc.path))")
            } else {
                say("Admin credentials (project admin, domain Default): . \(openrc.path)")
            }
        } else if created && isatty(STDOUT_FILENO) == 1 {
            say("Admin credentials (project admin, domain Default), shown this once:\n  \(exports)")
        } else if created {
            // stdout is a file or a pipe (a log): the password must not land there.
            say("Admin user created (project admin, domain Default); set its password with `cellar identity user password admin`.")
        }
    }
}
