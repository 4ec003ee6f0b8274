import APICore
import Foundation
import PostgresNIO

extension IdentityStore {
    /// Checks a password request and issues a project-scoped token.
    ///
    /// An unknown user, a wrong password and a disabled user all throw `IdentityError.invalidCredentials`, after
    /// the same PBKDF2 work, so neither the answer nor its timing tells them apart. A request without a scope
    /// is scoped to the user's default project, as Keystone does.
    ///
    /// - Throws: `.invalidCredentials`, `.invalidScope` (no such project, disabled, or no role on it),
    ///   `.unscopedTokenRefused` (no scope and no default project).
    public func authenticate(_ request: PasswordAuthRequest, at now: Date = Date()) async throws -> IssuedToken {
        let (hasher, password) = (self.hasher, request.password)
        guard let found = try await credentials(for: request.user), found.user.enabled else {
            await PasswordWork.run { hasher.verifyDummy(password) }
            logger.notice("authentication failed", metadata: ["user": "\(Self.describe(request.user))"])
            throw IdentityError.invalidCredentials
        }
        if try await isLockedOut(userID: found.user.id) {
            logger.notice("authentication refused: the account is locked", metadata: ["user": "\(Self.describe(request.user))"])
            throw IdentityError.accountLocked
        }
        let stored = found.passwordHash
        guard await PasswordWork.run({ hasher.verify(password, against: stored) }) else {
            try await recordFailedLogin(userID: found.user.id)
            logger.notice("authentication failed", metadata: ["user": "\(Self.describe(request.user))"])
            throw IdentityError.invalidCredentials
        }
        try await clearFailedLogins(userID: found.user.id)
        let project: Project
        switch request.project {
        case .id(let id):
            guard let byID = try await self.project(id: id) else { throw IdentityError.invalidScope }
            project = byID
        case .name(let name, let domain):
            guard DefaultDomain.matches(domain), let byName = try await self.project(named: name) else { throw IdentityError.invalidScope }
            project = byName
        case nil:
            guard let id = found.user.defaultProjectID, let byID = try await self.project(id: id) else {
                throw IdentityError.unscopedTokenRefused
            }
            project = byID
        }
        guard project.enabled else { throw IdentityError.invalidScope }
        let roles = try await roles(userID: found.user.id, projectID: project.id)
        guard !roles.isEmpty else { throw IdentityError.invalidScope }

        // Times travel as integer microseconds: a `Date` parameter may lose one, and the token body must not change.
        let issuedAt = now.microsecondsSince1970
        let expiresAt = issuedAt + tokenLifetime
        let info = TokenInfo(
            userID: found.user.id, userName: found.user.name, projectID: project.id, projectName: project.name, roles: roles,
            issuedAt: Date(microsecondsSince1970: issuedAt), expiresAt: Date(microsecondsSince1970: expiresAt),
            auditID: SecureRandom.auditID())
        let token = SecureRandom.token()
        try await client.query(
            """
            INSERT INTO identity_tokens (token_hash, user_id, project_id, roles, audit_id, issued_at, expires_at)
            VALUES (\(SecureRandom.tokenHash(token)), \(info.userID), \(info.projectID), \(roles.map(\.name)),
                    \(info.auditID), timestamptz 'epoch' + interval '1 microsecond' * \(issuedAt),
                    timestamptz 'epoch' + interval '1 microsecond' * \(expiresAt))
            """, logger: logger)
        logger.info("token issued", metadata: ["user": "\(info.userName)", "project": "\(info.projectName)", "audit_id": "\(info.auditID)"])
        return IssuedToken(token: token, info: info)
    }

    /// True while the user is locked out after too many failed logins.
    func isLockedOut(userID: String) async throws -> Bool {
        guard lockout.failureAttempts > 0 else { return false }
        let rows = try await client.query(
            """
            SELECT 1 FROM identity_login_failures WHERE user_id = \(userID) AND locked_until > clock_timestamp()
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// One more wrong password in a row; the last one allowed locks the user out for the lockout's duration.
    func recordFailedLogin(userID: String) async throws {
        guard lockout.failureAttempts > 0 else { return }
        let seconds = Double(lockout.duration.components.seconds)
        let rows = try await client.query(
            """
            INSERT INTO identity_login_failures AS f (user_id, failures) VALUES (\(userID), 1)
            ON CONFLICT (user_id) DO UPDATE SET failures = f.failures + 1
            RETURNING f.failures
            """, logger: logger)
        var failures = 0
        for try await count in rows.decode(Int.self) { failures = count }
        guard failures >= lockout.failureAttempts else { return }
        try await client.query(
            """
            UPDATE identity_login_failures SET failures = 0, locked_until = clock_timestamp() + \(seconds) * interval '1 second'
            WHERE user_id = \(userID)
            """, logger: logger)
        logger.warning("user locked out after failed logins", metadata: ["user_id": "\(userID)", "failures": "\(failures)"])
    }

    /// A successful login: the count of failures starts again.
    func clearFailedLogins(userID: String) async throws {
        guard lockout.failureAttempts > 0 else { return }
        try await client.query("DELETE FROM identity_login_failures WHERE user_id = \(userID)", logger: logger)
    }

    /// What `token` stands for, or nil when it is unknown, expired, revoked, or its user or project is disabled.
    ///
    /// Roles are those the token was issued with that the user still holds: removing an assignment takes effect
    /// at once, and a token left with no role is no longer valid.
    public func tokenInfo(token: String, at now: Date = Date()) async throws -> TokenInfo? {
        guard Self.isPlausibleToken(token) else { return nil }
        let rows = try await client.query(
            """
            SELECT t.user_id, u.name, t.project_id, p.name, t.audit_id,
                   (extract(epoch FROM t.issued_at) * 1000000)::bigint, (extract(epoch FROM t.expires_at) * 1000000)::bigint,
                   ARRAY(SELECT r.id || ':' || r.name
                         FROM identity_role_assignments a JOIN identity_roles r ON r.id = a.role_id
                         WHERE a.user_id = t.user_id AND a.project_id = t.project_id AND r.name = ANY (t.roles)
                         ORDER BY r.name)
            FROM identity_tokens t
            JOIN identity_users u ON u.id = t.user_id AND u.enabled
            JOIN identity_projects p ON p.id = t.project_id AND p.enabled
            WHERE t.token_hash = \(SecureRandom.tokenHash(token)) AND t.revoked_at IS NULL AND t.expires_at > \(now)
            """, logger: logger)
        for try await row in rows.decode((String, String, String, String, String, Int64, Int64, [String]).self) {
            let roles = row.7.compactMap { entry -> Role? in
                guard let colon = entry.firstIndex(of: ":") else { return nil }
                return Role(id: String(entry[..<colon]), name: String(entry[entry.index(after: colon)...]))
            }
            guard !roles.isEmpty else { return nil }
            return TokenInfo(
                userID: row.0, userName: row.1, projectID: row.2, projectName: row.3, roles: roles,
                issuedAt: Date(microsecondsSince1970: row.5), expiresAt: Date(microsecondsSince1970: row.6),
                auditID: row.4)
        }
        return nil
    }

    /// `TokenValidator`: the caller behind an `X-Auth-Token`, or nil when the token is not valid now.
    public func validate(token: String) async throws -> AuthContext? {
        try await tokenInfo(token: token)?.context
    }

    /// Revokes `token`; false when it was unknown, expired or revoked already.
    @discardableResult
    public func revoke(token: String, at now: Date = Date()) async throws -> Bool {
        guard Self.isPlausibleToken(token) else { return false }
        let rows = try await client.query(
            """
            UPDATE identity_tokens SET revoked_at = \(now)
            WHERE token_hash = \(SecureRandom.tokenHash(token)) AND revoked_at IS NULL AND expires_at > \(now)
            RETURNING audit_id
            """, logger: logger)
        for try await auditID in rows.decode(String.self) {
            logger.info("token revoked", metadata: ["audit_id": "\(auditID)"])
            return true
        }
        return false
    }

    /// Deletes tokens that expired before `cutoff`; returns how many. Revoked tokens go once they expire too.
    @discardableResult
    public func purgeExpiredTokens(before cutoff: Date = Date()) async throws -> Int {
        let rows = try await client.query("DELETE FROM identity_tokens WHERE expires_at < \(cutoff) RETURNING 1", logger: logger)
        return try await rows.decode(Int.self).reduce(0) { count, _ in count + 1 }
    }

    /// Tokens are short printable strings; anything else is not worth a database round trip.
    static func isPlausibleToken(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.count <= 1024
    }

    static func describe(_ reference: PasswordAuthRequest.UserReference) -> String {
        switch reference {
        case .id(let id): "id \(id)"
        case .name(let name, _): name
        }
    }
}
