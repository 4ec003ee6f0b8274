import Bus
import Foundation
import GuestProtocol
import Lifecycle

/// Configuration groups: the values go into the options file (for every start) and, where the server allows,
/// live with `SET GLOBAL`; a value the server takes only at start is reported as waiting for a restart.
extension MariaDBManager {
    func updateOverrides(_ values: [String: ParameterValue]) async throws -> OverridesOutcome {
        for name in values.keys where !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
            throw RemoteFailure(type: "InvalidConfiguration", message: "'\(name)' is not a MariaDB system variable name")
        }
        // Variables the previous group set and this one does not go back to Cellar's value, or the server's default.
        let removed = Set(state.overrides.keys).subtracting(values.keys)
        let previous = state.overrides
        state.overrides = values
        try writeOptions()
        guard isServerRunning() else {
            try state.save(to: paths.guestState)
            return OverridesOutcome(pendingRestart: [])
        }
        var settings: [(name: String, literal: String)] = values.keys.sorted().map { name in
            if case .string(let text) = values[name]! { return (name, MariaDBClient.literal(text)) }
            return (name, MariaDBOptionsFile.optionValue(values[name]!))
        }
        let cellars = Dictionary(options.tunedSettings.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        settings += removed.sorted().map { ($0, cellars[$0] ?? "DEFAULT") }
        let toApply = settings
        let pending: [String]
        do {
            pending = try await setGlobals(toApply)
        } catch {
            // The server refused a value: the previous group's file stays (values set before it go back at the
            // next restart at the latest; the caller records the failure).
            state.overrides = previous
            try writeOptions()
            throw error
        }
        try state.save(to: paths.guestState)
        logger.info("configuration applied", metadata: ["values": "\(values.count)", "pending_restart": "\(pending)"])
        return OverridesOutcome(pendingRestart: pending)
    }

    /// `SET GLOBAL` of each dynamic variable; returns the ones only a restart brings in.
    private func setGlobals(_ settings: [(name: String, literal: String)]) async throws -> [String] {
        try await admin { client in
            var pending: [String] = []
            for (name, literal) in settings {
                let dynamic = try client.exists(
                    """
                    SELECT 1 FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME = \(MariaDBClient.literal(name.uppercased())) AND READ_ONLY = 'NO'
                    """)
                guard dynamic else {
                    pending.append(name)
                    continue
                }
                do { try client.run("SET GLOBAL \(name) = \(literal)") } catch let failure as RemoteFailure {
                    throw RemoteFailure(type: "InvalidConfiguration", message: "MariaDB refused the value of \(name): \(failure.message)")
                }
            }
            return pending
        }
    }

    /// The group's values as the server runs them now (MariaDB has no one view of "changed from default").
    func effectiveConfiguration() async throws -> EffectiveConfiguration {
        let names = state.overrides.keys.sorted()
        guard !names.isEmpty else { return EffectiveConfiguration(values: [:]) }
        let list = names.map { MariaDBClient.literal($0.uppercased()) }.joined(separator: ", ")
        let rows = try await admin {
            try $0.run(
                """
                SELECT LOWER(VARIABLE_NAME), GLOBAL_VALUE, VARIABLE_TYPE FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME IN (\(list))
                """)
        }
        var values: [String: ParameterValue] = [:]
        for row in rows where row.count == 3 {
            values[row[0]] =
                switch row[2] {
                case let type where type.contains("INT"): Int64(row[1]).map(ParameterValue.integer) ?? .string(row[1])
                case "DOUBLE": Double(row[1]).map(ParameterValue.real) ?? .string(row[1])
                case "BOOLEAN": .boolean(row[1] == "ON")
                default: .string(row[1])
                }
        }
        return EffectiveConfiguration(values: values)
    }
}
