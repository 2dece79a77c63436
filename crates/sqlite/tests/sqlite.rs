//! The SQLite connector on real database files: the pitfalls that apply to SQLite are refused and leave the
//! data unchanged; types, discovery, limits, writes and open failures behave as documented.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tributary_core::{
    AccessClass, AccessPolicy, Connector, DataType, ErrorKind, ObjectKind, ObjectRules, OperationRequest,
};
use tributary_sqlite::{SqliteConfig, SqliteConnector, config};

fn database(dir: &Path, setup: &str) -> PathBuf {
    let path = dir.join("test.db");
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection.execute_batch(setup).unwrap();
    path
}

fn connector(path: &Path, extra: Value) -> SqliteConnector {
    let mut config = json!({ "path": path.display().to_string() });
    if let (Some(config), Value::Object(extra)) = (config.as_object_mut(), extra) {
        config.extend(extra);
    }
    let values = config::spec().validate(&config).unwrap();
    SqliteConnector::new(SqliteConfig::from_values(&values).unwrap()).unwrap()
}

fn all() -> AccessPolicy {
    AccessPolicy::new([AccessClass::Read, AccessClass::Write], ObjectRules::Any)
}

fn rows(output: &tributary_core::Output) -> Value {
    serde_json::to_value(output).unwrap()["data"]["rows"].clone()
}

const SETUP: &str =
    "CREATE TABLE t (id INTEGER PRIMARY KEY, secret TEXT); INSERT INTO t VALUES (1, 'keep'), (2, 'me');";

fn untouched(path: &Path) {
    let connection = rusqlite::Connection::open(path).unwrap();
    let (count, secrets): (i64, String) = connection
        .query_row(
            "SELECT count(*), group_concat(secret, ',') FROM (SELECT secret FROM t ORDER BY id)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((count, secrets.as_str()), (2, "keep,me"));
    let tables: i64 = connection
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1, "no table or index was created");
}

#[tokio::test]
async fn escapes_are_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path(), SETUP);
    let copy = dir.path().join("copy.db");
    // Writes allowed: only the guard, query_only and the authorizer stand in the way.
    let connector = connector(&path, json!({"read_only": false}));
    for sql in [
        "SELECT 1; DELETE FROM t",
        "SELECT 1; COMMIT; DROP TABLE t",
        "/* x */ DELETE FROM t",
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "SELECT load_extension('/tmp/evil')",
        "SELECT readfile('/etc/passwd')",
        &format!("ATTACH DATABASE '{}' AS other", copy.display()),
        &format!("VACUUM INTO '{}'", copy.display()),
        "PRAGMA writable_schema = 1",
        "PRAGMA query_only = 0",
        "REPLACE INTO t VALUES (1, 'x')",
        "INSERT INTO t VALUES (3, 'x')",
        "CREATE TABLE u (a)",
        "CREATE INDEX i ON t (secret)",
        "DROP TABLE t",
        "BEGIN",
    ] {
        let error = connector
            .call(OperationRequest::new("query", json!({ "sql": sql })), &all())
            .await
            .expect_err(sql);
        // The read-only rules deny (audited as `denied`); what does not parse is bad input.
        let expected = if error.message().starts_with("refused:") {
            ErrorKind::PermissionDenied
        } else {
            ErrorKind::InvalidInput
        };
        assert_eq!(error.kind(), expected, "{sql}: {error}");
    }
    untouched(&path);
    assert!(!copy.exists(), "nothing was written elsewhere");
}

#[tokio::test]
async fn reads_report_canonical_names_including_the_schema_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(
        dir.path(),
        "CREATE TABLE Orders (id INTEGER PRIMARY KEY); CREATE VIEW v AS SELECT * FROM Orders;",
    );
    let connector = connector(&path, json!({}));
    for (sql, expected) in [
        ("SELECT * FROM orders", vec!["main.Orders"]),
        (
            "SELECT * FROM main.ORDERS JOIN v USING (id)",
            vec!["main.Orders", "main.v"],
        ),
        ("SELECT sql FROM sqlite_master", vec!["main.sqlite_schema"]),
        ("WITH x AS (SELECT 1) SELECT * FROM x", vec![]),
    ] {
        let plan = connector
            .plan(OperationRequest::new("query", json!({ "sql": sql })))
            .await
            .unwrap();
        assert_eq!(
            plan.access().objects.iter().collect::<Vec<_>>(),
            expected,
            "{sql}"
        );
    }
    let only_orders = AccessPolicy::new([AccessClass::Read], ObjectRules::only(["main.Orders"]).unwrap());
    let error = connector
        .call(
            OperationRequest::new("query", json!({"sql": "SELECT * FROM sqlite_master"})),
            &only_orders,
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied);
}

#[tokio::test]
async fn types_map_by_declared_column_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(
        dir.path(),
        "CREATE TABLE v (i INTEGER, r REAL, d DECIMAL(10,2), b BOOLEAN, t TEXT, j JSON, x BLOB, ts DATETIME, n TEXT);
         INSERT INTO v VALUES (9223372036854775807, 1.5, '12.34', 1, 'héllo', '{\"a\":[1,null]}', x'00ff10', '2026-02-28 23:30:00', NULL);",
    );
    let connector = connector(&path, json!({}));
    let output = connector.query("SELECT * FROM v", vec![], None).await.unwrap();
    assert_eq!(
        rows(&output),
        json!([[9223372036854775807_i64, 1.5, "12.34", true, "héllo", {"a": [1, null]}, "AP8Q", "2026-02-28 23:30:00", null]])
    );
    let json = serde_json::to_value(&output).unwrap();
    let types: Vec<&str> = json["data"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["data_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "integer",
            "float",
            "decimal",
            "boolean",
            "string",
            "json",
            "bytes",
            "timestamp",
            "string"
        ]
    );
    let output = connector
        .query(
            "SELECT ? + 1, ?, ?",
            vec![json!(41), json!("x"), json!(null)],
            None,
        )
        .await
        .unwrap();
    assert_eq!(rows(&output), json!([[42, "x", null]]));
    let error = connector.query("SELECT ?", vec![], None).await.unwrap_err();
    assert!(error.message().contains("1 placeholder(s) but 0"), "{error}");
}

#[tokio::test]
async fn discovery_finds_views_keys_and_unusual_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(
        dir.path(),
        r#"CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL DEFAULT 'x@example.com');
           CREATE TABLE "Line ""Items"" Ü" (order_id INT, line INT, customer_id INT REFERENCES customers(id), "Mixed Case" TEXT,
                                           PRIMARY KEY (order_id, line));
           CREATE VIEW big AS SELECT * FROM customers WHERE id > 10;
           INSERT INTO customers (id) VALUES (1), (2), (3); ANALYZE;"#,
    );
    let connector = connector(&path, json!({}));
    let catalog = connector.discover().await.unwrap();
    let names: Vec<&str> = catalog.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["main.Line \"Items\" Ü", "main.big", "main.customers"]);
    let customers = catalog.object("main.customers").unwrap();
    assert_eq!(customers.primary_key, ["id"]);
    assert_eq!(customers.row_estimate, Some(3));
    let email = customers.field("email").unwrap();
    assert!(!email.nullable);
    assert_eq!(email.default.as_deref(), Some("'x@example.com'"));
    let lines = catalog.object("main.Line \"Items\" Ü").unwrap();
    assert_eq!(lines.primary_key, ["order_id", "line"]);
    assert_eq!(lines.foreign_keys[0].references, "main.customers");
    assert_eq!(lines.foreign_keys[0].fields, ["customer_id"]);
    assert_eq!(lines.field("Mixed Case").unwrap().data_type, DataType::String);
    assert_eq!(catalog.object("main.big").unwrap().kind, ObjectKind::View);
    let output = connector
        .query(r#"SELECT "Mixed Case" FROM "Line ""Items"" Ü""#, vec![], None)
        .await
        .unwrap();
    assert_eq!(rows(&output), json!([]));
    let described = connector
        .call(
            OperationRequest::new("describe_object", json!({"object": "main.big"})),
            &all(),
        )
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&described).unwrap()["data"]["kind"], "view");
}

#[tokio::test]
async fn limits_truncate_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(
        dir.path(),
        "CREATE TABLE n AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 500) SELECT i FROM r;",
    );
    let connector = connector(&path, json!({"default_rows": 10, "max_rows": 50}));
    let output = connector.query("SELECT i FROM n", vec![], None).await.unwrap();
    assert_eq!(rows(&output).as_array().unwrap().len(), 10);
    assert_eq!(output.truncation.as_ref().unwrap().limit, 10);
    assert_eq!(
        connector
            .query("SELECT i FROM n", vec![], Some(1000))
            .await
            .unwrap()
            .truncation
            .unwrap()
            .limit,
        50
    );
    assert!(
        connector
            .query("SELECT i FROM n WHERE i <= 10", vec![], None)
            .await
            .unwrap()
            .truncation
            .is_none()
    );
}

#[tokio::test]
async fn structured_writes_and_read_only_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(
        dir.path(),
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, photo BLOB, team TEXT);",
    );
    let writer = connector(&path, json!({"read_only": false}));
    let insert = json!({"table": "main.people", "rows": [
        {"id": 1, "name": "Ada", "photo": "AP8Q", "team": "a"}, {"id": 2, "name": "Bob", "photo": null, "team": "a"}
    ]});
    let output = writer
        .call(OperationRequest::new("insert", insert), &all())
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&output).unwrap()["data"]["affected"], 2);
    assert_eq!(
        writer
            .update(
                "people",
                json!({"team": "b"}).as_object().unwrap().clone(),
                json!({"team": "a"}).as_object().unwrap().clone()
            )
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        writer
            .delete("PEOPLE", json!({"id": 2}).as_object().unwrap().clone())
            .await
            .unwrap(),
        1
    );
    let photo: Vec<u8> = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT photo FROM people", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        photo,
        [0, 255, 16],
        "base64 into a BLOB column is stored as bytes"
    );
    let duplicate = json!({"table": "people", "rows": [{"id": 5, "name": "n"}, {"id": 1, "name": "dup"}]});
    assert_eq!(
        writer
            .call(OperationRequest::new("insert", duplicate), &all())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    let count: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM people", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1, "the failed insert was rolled back whole");

    let reader = connector(&path, json!({}));
    let error = reader
        .call(
            OperationRequest::new("delete", json!({"table": "people", "filter": {"id": 1}})),
            &all(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied);
    let error = writer
        .call(
            OperationRequest::new("delete", json!({"table": "people", "filter": {}})),
            &all(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn open_failures_are_classified() {
    let dir = tempfile::tempdir().unwrap();
    let missing = connector(&dir.path().join("nope.db"), json!({}));
    let error = missing.check().await.error.unwrap();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error:?}");
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![7_u8; 4096]).unwrap();
    let error = connector(&garbage, json!({})).check().await.error.unwrap();
    assert_eq!(error.kind, ErrorKind::InvalidConfig, "{error:?}");
    let fresh = dir.path().join("new.db");
    let created = connector(&fresh, json!({"read_only": false, "create_if_missing": true}));
    assert!(!fresh.exists(), "building a connector creates nothing");
    assert!(created.check().await.is_connected());
    assert!(fresh.exists(), "create_if_missing creates the file on first use");
    let report = connector(&database(dir.path(), SETUP), json!({})).check().await;
    assert!(report.is_connected(), "{report:?}");
    assert_eq!(report.server.unwrap().details["tables"], 1);
    let error = config::spec()
        .validate(&json!({"path": "x.db", "create_if_missing": true}))
        .map(|v| SqliteConfig::from_values(&v));
    assert!(matches!(error, Ok(Err(_))), "create_if_missing needs writes");
}

#[tokio::test]
async fn in_memory_databases_work_through_the_factory() {
    let factory: Box<dyn tributary_core::ConnectorFactory> = Box::new(tributary_sqlite::SqliteFactory);
    let values = factory
        .spec()
        .validate(&json!({"path": ":memory:", "read_only": false}))
        .unwrap();
    let connector = factory
        .build(values, &tributary_core::HostAccess::unrestricted())
        .await
        .unwrap();
    assert!(connector.check().await.is_connected());
    let error = connector
        .call(
            OperationRequest::new("query", json!({"sql": "CREATE TABLE t (a)"})),
            &all(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::PermissionDenied,
        "a write through the read tool: {error}"
    );
    let output = connector
        .call(
            OperationRequest::new("query", json!({"sql": "SELECT 1 AS one"})),
            &all(),
        )
        .await
        .unwrap();
    assert_eq!(rows(&output), json!([[1]]));
}

#[tokio::test]
async fn a_database_file_replaced_on_disk_is_read_anew() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(
        dir.path(),
        "CREATE TABLE v (x INTEGER); INSERT INTO v VALUES (1);",
    );
    let connector = connector(&path, json!({}));
    assert_eq!(
        rows(&connector.query("SELECT x FROM v", vec![], None).await.unwrap()),
        json!([[1]])
    );
    // Another process writes a new version and renames it over the old file, as deploys and backups do.
    let next = dir.path().join("next.db");
    rusqlite::Connection::open(&next)
        .unwrap()
        .execute_batch("CREATE TABLE v (x INTEGER); INSERT INTO v VALUES (2);")
        .unwrap();
    std::fs::rename(&next, &path).unwrap();
    assert_eq!(
        rows(&connector.query("SELECT x FROM v", vec![], None).await.unwrap()),
        json!([[2]]),
        "a kept connection must not read the old file"
    );
}

#[tokio::test]
async fn mistakes_in_the_statement_are_classified_with_sqlites_message() {
    let dir = tempfile::tempdir().unwrap();
    let shop = connector(&database(dir.path(), SETUP), json!({}));
    let policy = all();
    let call = |sql: &str| shop.call(OperationRequest::new("query", json!({ "sql": sql })), &policy);
    let error = call("SELECT nope FROM t").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error:?}");
    assert_eq!(error.message(), "SQLite: no such column: nope");
    let error = call("SELECT id FROM t WHERE id = abs()").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error:?}");
}
