import Foundation

/// `CELLAR_DEFAULT_DATASTORE`: the operator's default datastore, applied to the catalog each time the API starts
/// (Trove's `default_datastore`). `mariadb`, `mariadb:10.11` (with its default version), or `none` (a create
/// without `datastore` is refused). Unset: the catalog's choice stands (`cellar datastore set-default`).
struct DefaultDatastoreSetting: Equatable {
    /// nil: no default.
    var datastore: String?
    var version: String?

    init?(environment: [String: String]) {
        guard let text = environment["CELLAR_DEFAULT_DATASTORE"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        self.init(text)
    }

    init(_ text: String) {
        guard text != "none" else {
            datastore = nil
            version = nil
            return
        }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        datastore = parts[0]
        version = parts.count > 1 ? parts[1] : nil
    }
}
