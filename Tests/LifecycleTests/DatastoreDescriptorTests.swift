import Lifecycle
import Testing

@Suite("Datastore descriptors")
struct DatastoreDescriptorTests {
    static let postgreSQLSets = CharacterSetCatalog(
        characterSets: ["UTF8", "LATIN1", "SQL_ASCII"],
        collations: ["C": "", "POSIX": "", "C.utf8": "", "en_US.utf8": ""])
    static let mariaDBSets = CharacterSetCatalog(
        characterSets: ["utf8mb3", "utf8mb4", "latin1"],
        collations: [
            "utf8mb3_general_ci": "utf8mb3", "utf8mb4_general_ci": "utf8mb4", "latin1_swedish_ci": "latin1",
        ])

    @Test("found by manager, and by type for instances recorded before the manager was")
    func lookup() {
        #expect(Datastores.descriptor(manager: "mariadb")?.standardPort == 3306)
        #expect(Datastores.descriptor(of: Datastore(type: "postgresql", version: "15"))?.standardPort == 5432)
        #expect(Datastores.descriptor(of: Datastore(type: "custom", version: "1", manager: "mariadb"))?.usersHaveHosts == true)
        #expect(Datastores.descriptor(manager: "oracle") == nil)
    }

    @Test("names: the datastore's length, its reserved names")
    func names() {
        let postgreSQL = PostgreSQLDescriptor()
        let mariaDB = MariaDBDescriptor()
        #expect(postgreSQL.problem(withName: "orders", of: .database) == nil)
        #expect(postgreSQL.problem(withName: "template1", of: .database)?.contains("reserved") == true)
        #expect(mariaDB.problem(withName: "template1", of: .database) == nil)
        #expect(mariaDB.problem(withName: "mysql", of: .database)?.contains("reserved database name on MariaDB") == true)
        #expect(postgreSQL.problem(withName: String(repeating: "u", count: 70), of: .user)?.contains("1 to 63") == true)
        #expect(mariaDB.problem(withName: String(repeating: "u", count: 70), of: .user) == nil)
        #expect(mariaDB.problem(withName: "bad name", of: .user)?.contains("not a valid user name") == true)
    }

    @Test("PostgreSQL: encodings whatever their spelling; a MySQL collation is refused naming the field and the datastore")
    func postgreSQLCharacterSets() {
        let rules = PostgreSQLDescriptor()
        #expect(rules.problem(characterSet: "utf-8", collation: "C.utf8", in: Self.postgreSQLSets, field: "databases[0]") == nil)
        let problem = rules.problem(characterSet: nil, collation: "utf8_general_ci", in: Self.postgreSQLSets, field: "instance.databases[1]")
        #expect(problem == "'instance.databases[1].collate' utf8_general_ci is not a collation of PostgreSQL.")
        #expect(
            rules.problem(characterSet: "utf8mb4", collation: nil, in: Self.postgreSQLSets, field: "d")?.contains("'d.character_set' utf8mb4") == true
        )
    }

    @Test("MariaDB: utf8 is utf8mb3, a collation must belong to the character set asked for")
    func mariaDBCharacterSets() {
        let rules = MariaDBDescriptor()
        #expect(rules.problem(characterSet: "utf8", collation: "utf8_general_ci", in: Self.mariaDBSets, field: "d") == nil)
        #expect(rules.problem(characterSet: nil, collation: "UTF8MB4_GENERAL_CI", in: Self.mariaDBSets, field: "d") == nil)
        #expect(
            rules.problem(characterSet: "latin1", collation: "utf8_general_ci", in: Self.mariaDBSets, field: "d")
                == "'d.collate' utf8_general_ci belongs to character set utf8mb3, not latin1.")
        #expect(
            rules.problem(characterSet: "klingon", collation: nil, in: Self.mariaDBSets, field: "d")?.contains("not a character set of MariaDB")
                == true)
    }
}
