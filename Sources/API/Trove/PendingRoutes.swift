import APICore
import Hummingbird

extension TroveAPI {
    /// Routes whose resources arrive with later work: they answer 501 with what is missing, never a fake result.
    func registerPendingRoutes(on routes: RouterGroup<CellarRequestContext>) {
        let pending: [(path: String, what: String)] = [
            ("backups", "Backups"), ("backups/:id", "Backups"), ("instances/:id/backups", "Backups"),
        ]
        for (path, what) in pending {
            for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
                routes.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw TroveError.notImplemented("\(what) are not available in this version of Cellar yet.")
                }
            }
        }
    }
}
