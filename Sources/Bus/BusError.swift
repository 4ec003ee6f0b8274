/// A failure of the message bus, with what a person needs to act on it.
public struct BusError: Error, Equatable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// The broker cannot be reached, or the connection broke.
        case connection
        /// The broker refused an operation (channel or connection closed by the server).
        case refused
        /// The broker did not confirm a publish (nack).
        case notConfirmed
        /// No answer in time (confirm or RPC reply).
        case timeout
        /// The remote side of an RPC reported a failure.
        case remoteFailure
        /// The URL is not `amqp://user:password@host:port/vhost`.
        case invalidURL
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
