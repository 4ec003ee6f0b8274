/// Another writer appended to the stream first; reload the stream, decide again, retry.
public struct WrongExpectedVersion: Error, Equatable, CustomStringConvertible {
    public var streamID: String
    public var expected: ExpectedVersion
    /// The stream's version when the append was refused (0: no stream).
    public var actual: Int

    public init(streamID: String, expected: ExpectedVersion, actual: Int) {
        self.streamID = streamID
        self.expected = expected
        self.actual = actual
    }

    public var description: String {
        "stream \(streamID) is at version \(actual), but the append expected \(expected)"
    }
}

/// A request the event store refuses before touching the database.
public struct InvalidAppend: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
