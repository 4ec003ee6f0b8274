import Testing

@testable import EventStore

@Suite("Splitting SQL scripts into statements")
struct SQLScriptTests {
    @Test("semicolons in quotes, dollar-quoted bodies and comments do not split")
    func splitting() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE t (a text DEFAULT 'x;y');
            /* block; comment */
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'no; never'; END;
            $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;
            SELECT "odd;name" FROM t
            """
        let statements = SQLScript.statements(in: script)
        #expect(statements.count == 4)
        #expect(statements[0].hasSuffix("DEFAULT 'x;y')"))
        #expect(statements[1].contains("RAISE EXCEPTION 'no; never'; END;"))
        #expect(statements[2].hasSuffix("$body$ SELECT 1; $body$"))
        #expect(statements[3] == "SELECT \"odd;name\" FROM t")
    }

    @Test("a script of only comments has no statements")
    func commentsOnly() {
        #expect(SQLScript.statements(in: "-- nothing\n/* here */\n").isEmpty)
    }
}

@Suite("FNV-1a")
struct FNV1aTests {
    @Test("the published 64-bit vectors, so stored checksums and ids never change")
    func vectors() {
        #expect(FNV1a.hash([UInt8]()) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash("a".utf8) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash("foobar".utf8) == 0x8594_4171_f739_67e8)
    }
}
