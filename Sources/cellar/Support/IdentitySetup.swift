import API
import Foundation
import Hummingbird
import Identity
import Logging
import PostgresNIO

/// The built-in identity service as `cellar up` / `cellar api` run it: routes, token validation, admin seeding.
struct IdentitySetup: Sendable {
    let store: IdentityStore
    let catalog: ServiceCatalog
    let authURL: String
    let logger: Logger

    init(client: PostgresClient, logger: Logger, publicURL: String?, authURL: String) {
        store = IdentityStore(client: client, logger: logger)
        catalog = ServiceCatalog(publicURL: publicURL)
        self.authURL = authURL
        self.logger = logger
    }

    var validator: any TokenValidator { store }

    func addRoutes(to router: Router<CellarRequestContext>) {
        router.addIdentityRoutes(store: store, catalog: catalog)
    }

    /// Creates the `admin` user in project `admin` on first start and shows its credentials.
    ///
    /// With a local stack the generated password is kept in `<state>/admin-credentials.json` (mode 600) and shown
    /// on every start; otherwise it is shown once, when created.
    func seedAdmin(stateDirectory: URL?) async throws {
        let purged = try await store.purgeExpiredTokens()
        if purged > 0 { logger.info("removed expired tokens", metadata: ["count": "\(purged)"]) }
        let password = SecureRandom.password()
        let created = try await store.ensureAdmin(password: password)
        let file = stateDirectory?.appendingPathComponent("admin-credentials.json")
        var shown: String? = created ? password : nil
        if created, let file {
            let credentials = ["auth_url": authURL, "username": "admin", "password": password, "project_name": "admin",
                               "user_domain_name": "Default", "project_domain_name": "Default"]
            let data = try JSONSerialization.data(withJSONObject: credentials, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        } else if let file, let data = try? Data(contentsOf: file),
                  let saved = try? JSONSerialization.jsonObject(with: data) as? [String: String] {
            shown = saved["password"]
        }
        if let shown {
            say("""
                Admin credentials (project admin, domain Default):
                  export OS_AUTH_URL=\(authURL) OS_USERNAME=admin OS_PASSWORD='\(shown)' OS_PROJECT_NAME=admin \\
                         OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
                """ + (file.map { "\n  (kept in \($0.path))" } ?? ""))
        } else {
            say("Admin user exists already; its password was shown when it was created.")
        }
    }
}
