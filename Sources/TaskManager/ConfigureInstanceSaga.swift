import Bus
import Foundation
import GuestProtocol
import Lifecycle

/// `ConfigureInstance`: the guest writes the instance's configuration values (none after a detach), reloads
/// the server and answers which settings wait for a restart; `ConfigurationApplied` or
/// `ConfigurationRestartPending` is recorded. A refusal is `ConfigurationApplyFailed`: the guest kept its values.
struct ConfigureInstanceSaga: SagaSteps {
    func run(step: String, in context: SagaContext) async throws {
        guard step == "applyConfiguration" else { throw PermanentFailure("ConfigureInstance has no step \(step)") }
        let instance = try await context.instance()
        guard instance.leaf == "configuring" else { return }  // recorded before a crash: nothing left to do
        let request = OverridesRequest(values: instance.configurationValues ?? [:])
        let answer = try await context.callGuest(GuestMethod.updateOverrides.rawValue, request, timeout: .seconds(30))
        let outcome = try answer.decode(as: OverridesOutcome.self)
        if outcome.pendingRestart.isEmpty {
            try await context.record(.recordConfigurationApplied)
        } else {
            try await context.record(.recordConfigurationRestartPending(parameters: outcome.pendingRestart))
        }
    }

    func compensate(_ compensation: String, in context: SagaContext) async throws {}

    func failed(reason: String, in context: SagaContext) async throws {
        guard try await context.instance().leaf == "configuring" else { return }
        try await context.record(.recordConfigurationApplyFailed(reason: reason))
    }
}
