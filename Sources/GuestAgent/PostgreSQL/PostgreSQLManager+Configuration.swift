import Bus
import Foundation
import GuestProtocol
import Lifecycle
import PostgresNIO

/// Configuration groups and access rules: the values go into `cellar.conf`, the networks into `pg_hba.conf`,
/// then the server reloads; what only a restart brings in is reported, never guessed.
extension PostgreSQLManager {
    /// Writes `values` (replacing the previous group's), reloads, and answers which settings need a restart.
    /// Values the server itself refuses leave the previous file in place and fail the call.
    func updateOverrides(_ values: [String: ParameterValue]) async throws -> OverridesOutcome {
        let previous = state.overrides
        state.overrides = values
        try writeConfiguration()
        if try await isServerRunning() {
            let refused = try await withAdmin { connection in
                // pg_file_settings reads the files as they are now; "could not be applied" only means a restart.
                try await connection.query(
                    """
                    SELECT coalesce(name, sourcefile || ' line ' || sourceline, 'the configuration files') || ': ' || error FROM pg_file_settings
                    WHERE error IS NOT NULL AND error <> 'setting could not be applied' ORDER BY seqno
                    """, logger: self.logger
                ).collect().map { try $0.decode(String.self) }
            }
            if !refused.isEmpty {
                state.overrides = previous
                try writeConfiguration()
                throw RemoteFailure(type: "InvalidConfiguration", message: "PostgreSQL refused the configuration: \(refused.joined(separator: "; "))")
            }
        }
        try state.save(to: paths.guestState)
        guard try await isServerRunning() else { return OverridesOutcome(pendingRestart: []) }
        try await reloadAndWait()
        let pending = try await withAdmin { connection in
            try await connection.query("SELECT name FROM pg_settings WHERE pending_restart ORDER BY name", logger: self.logger)
                .collect().map { try $0.decode(String.self) }
        }
        logger.info("configuration applied", metadata: ["values": "\(values.count)", "pending_restart": "\(pending)"])
        return OverridesOutcome(pendingRestart: pending)
    }

    /// The settings the server runs with that differ from its built-in defaults (`GET .../configuration`).
    func effectiveConfiguration() async throws -> EffectiveConfiguration {
        let rows = try await withAdmin { connection in
            try await connection.query(
                """
                SELECT name, setting, vartype FROM pg_settings
                WHERE source NOT IN ('default', 'override', 'client', 'session') AND name NOT LIKE 'cellar.%'
                ORDER BY name
                """, logger: self.logger
            ).collect().map { try $0.decode((String, String, String).self) }
        }
        var values: [String: ParameterValue] = [:]
        for (name, setting, type) in rows {
            values[name] =
                switch type {
                case "integer": Int64(setting).map(ParameterValue.integer) ?? .string(setting)
                case "real": Double(setting).map(ParameterValue.real) ?? .string(setting)
                case "bool": .boolean(setting == "on")
                default: .string(setting)
                }
        }
        return EffectiveConfiguration(values: values)
    }

    /// Only `allowedCidrs` may connect over TCP (empty: any network); effective for the next connection.
    func updateAccess(allowedCidrs: [String]) async throws {
        for cidr in allowedCidrs where !Instance.Access.isCIDR(cidr) {
            throw RemoteFailure(type: "InvalidNetwork", message: "\(cidr) is not a network in CIDR notation")
        }
        state.allowedCidrs = allowedCidrs
        try writeConfiguration()
        try state.save(to: paths.guestState)
        if try await isServerRunning() { try await reloadAndWait() }
    }

    /// `pg_reload_conf()` only signals the postmaster: wait until a new session sees this generation.
    private func reloadAndWait() async throws {
        state.configurationGeneration += 1
        try writeConfiguration()
        try state.save(to: paths.guestState)
        let generation = String(state.configurationGeneration)
        try await withAdmin { connection in _ = try await connection.query("SELECT pg_reload_conf()", logger: self.logger).collect() }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let seen = try await withAdmin { connection in
                try await connection.query("SELECT current_setting('cellar.generation', true)", logger: self.logger)
                    .collect().first.flatMap { try $0.decode(String?.self) }
            }
            if seen == generation { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RemoteFailure(type: "ReloadTimeout", message: "PostgreSQL did not reload its configuration within 10 s")
    }
}
