import APICore
import EventStore
import Lifecycle

extension AggregateRepository {
    /// The API's use of the one command path: the request's caller and id as metadata, one retry after a
    /// concurrent write then 409, the model's refusals as Trove errors, and a subject the caller may not see (or
    /// that does not exist, for anything but a create) as 404.
    func execute(
        _ command: Model.Command, on id: String, subject: String, caller: AuthContext, requestID: String, isCreate: Bool,
        visible: @escaping (Model.State) -> Bool,
        alongside: (Model.State, [Model.Event]) throws -> SameTransactionWrites? = { _, _ in nil }
    ) async throws -> [RecordedEvent] {
        do {
            return try await execute(
                command, on: id, metadata: EventMetadata(caller: caller, requestID: requestID), attempts: 2,
                check: { state in
                    guard isCreate || visible(state) else { throw TroveError.notFound("\(subject) \(id) could not be found.") }
                },
                alongside: alongside)
        } catch let rejection as Rejection {
            throw TroveError.from(rejection)
        } catch is WrongExpectedVersion {
            throw TroveError.conflict("\(subject) \(id) was changed by another request at the same time; retry.")
        }
    }
}
