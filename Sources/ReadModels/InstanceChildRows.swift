import EventStore
import Foundation
import Lifecycle
import PostgresNIO

/// A batch's writes to `instance_databases` and `instance_users` as statements, in event order, with the inserts
/// held back and written as one statement per table: the rows are those of running each write in turn.
///
/// Inserts into the two tables commute with each other; any other write (a delete, an update) comes after the held
/// inserts, so it finds the rows it would have found.
struct InstanceChildRows {
    /// The statements so far, in the order to run them.
    private(set) var statements: [PostgresQuery] = []
    private var databases: [DatabaseRow] = []
    private var users: [UserRow] = []

    mutating func insert(database: Instance.DatabaseSpec, instance id: String) {
        databases.append(DatabaseRow(instance: id, name: database.name, characterSet: database.characterSet, collate: database.collate))
    }

    mutating func insert(user: Instance.UserSpec, instance id: String) {
        users.append(UserRow(instance: id, name: user.name, host: user.host, databases: user.databases))
    }

    /// A write that is not an insert, after the held inserts.
    mutating func run(_ query: PostgresQuery) throws {
        try flush()
        statements.append(query)
    }

    /// Writes the held inserts (`ON CONFLICT DO NOTHING`: the first of two rows with one key stays, as one by one).
    mutating func flush() throws {
        if !databases.isEmpty {
            let json = String(decoding: try JSONEncoder().encode(databases), as: UTF8.self)
            databases.removeAll()
            statements.append(
                """
                INSERT INTO instance_databases (instance_id, name, character_set, collation_name)
                SELECT r.instance, r.name, r."characterSet", r."collate"
                FROM ROWS FROM (jsonb_to_recordset(\(json)::jsonb) AS (instance text, name text, "characterSet" text, "collate" text))
                    WITH ORDINALITY AS r(instance, name, "characterSet", "collate", n)
                ORDER BY r.n
                ON CONFLICT DO NOTHING
                """)
        }
        if !users.isEmpty {
            let json = String(decoding: try JSONEncoder().encode(users), as: UTF8.self)
            users.removeAll()
            statements.append(
                """
                INSERT INTO instance_users (instance_id, name, host, databases)
                SELECT r.instance, r.name, r.host, r.databases
                FROM ROWS FROM (jsonb_to_recordset(\(json)::jsonb) AS (instance text, name text, host text, databases text[]))
                    WITH ORDINALITY AS r(instance, name, host, databases, n)
                ORDER BY r.n
                ON CONFLICT DO NOTHING
                """)
        }
    }

    private struct DatabaseRow: Encodable {
        var instance, name: String
        var characterSet, collate: String?
    }

    private struct UserRow: Encodable {
        var instance, name, host: String
        var databases: [String]
    }
}
