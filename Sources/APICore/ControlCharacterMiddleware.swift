import Hummingbird

/// The gate for path, query and headers: a request with a control character in any of them is answered before
/// a route (or token validation) reads it. JSON bodies pass the same rule where they are decoded
/// (`RequestBody`, `PasswordAuthRequest`).
public struct ControlCharacterMiddleware<Context: RequestContext>: RouterMiddleware {
    let refuse: @Sendable (_ message: String) throws -> Response

    /// A gate answering with `refuse(message)`: the caller's error shape (Trove's or Keystone's).
    public init(refuse: @escaping @Sendable (_ message: String) throws -> Response) {
        self.refuse = refuse
    }

    /// The gate of Trove's routes: 400 `{"badRequest": {"code": 400, "message": ...}}`.
    public static var trove: Self {
        Self { message in throw TroveError.badRequest(message) }
    }

    /// Refuses the request when its path, query or headers hold a control character; passes it on otherwise.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let problem = ControlCharacters.problem(in: request, parameters: context.parameters) {
            return try refuse(problem)
        }
        return try await next(request, context)
    }
}
