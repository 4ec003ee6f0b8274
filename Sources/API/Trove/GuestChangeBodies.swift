import Foundation

/// Bodies of the database and user routes (Trove's shapes).
struct DatabasesBody: Decodable { var databases: [CreateInstanceRequest.Body.Database] }
struct UsersBody: Decodable { var users: [CreateInstanceRequest.Body.User] }
struct DatabaseNamesBody: Decodable { var databases: [CreateInstanceRequest.Body.DatabaseName] }
struct PasswordChange: Decodable {
    var name: String
    var password: String
    var host: String?
}
struct PasswordsBody: Decodable { var users: [PasswordChange] }
struct RootBody: Decodable { var password: String? }
/// `PUT /instances/{id}/users/{name}`: `{"user": {"name": ..., "password": ..., "host": ...}}`.
struct UserUpdateBody: Decodable {
    struct Attributes: Decodable {
        var name: String?
        var password: String?
        var host: String?
    }
    var user: Attributes
}
