import PostgresNIO

/// A database URL that cannot be used.
public struct InvalidDatabaseURL: Error, CustomStringConvertible {
    public var url: String
    public var description: String {
        "invalid database URL \(URLParts.redacted(url)); expected postgres://USER:PASSWORD@HOST:PORT/DATABASE"
    }
}

extension PostgresClient.Configuration {
    /// Configuration from `postgres://user:password@host:port/database[?sslmode=disable|require]`.
    public init(url: String) throws {
        guard let parts = URLParts(url), ["postgres", "postgresql"].contains(parts.scheme), let user = parts.user,
            !parts.path.isEmpty
        else { throw InvalidDatabaseURL(url: url) }
        let tls: PostgresClient.Configuration.TLS
        switch parts.query["sslmode"] ?? "disable" {
        case "disable": tls = .disable
        case "require": tls = .require(.clientDefault)
        default: tls = .prefer(.clientDefault)
        }
        self.init(
            host: parts.host, port: parts.port ?? 5432, username: user, password: parts.password,
            database: parts.path, tls: tls)
        options.additionalStartupParameters = [("application_name", Self.applicationName)]
    }

    /// `cellar <command>` (e.g. `cellar taskmanager`): who holds a connection shows in `pg_stat_activity`.
    static var applicationName: String {
        let command = CommandLine.arguments.dropFirst().first.map { " " + $0 } ?? ""
        return String("cellar\(command)".prefix(63))
    }
}
