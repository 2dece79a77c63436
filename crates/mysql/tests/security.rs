//! Every SQL item of `shared/reference/security-pitfalls.md` that applies to MySQL, against a real MariaDB,
//! through `Connector::call`, as a user with every privilege (FILE included): only Tributary stands in the
//! way. Afterwards the data, the tables and the file system are checked unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use mysql_async::prelude::Queryable;
use serde_json::json;
use tributary_core::{AccessClass, AccessPolicy, Connector, ErrorKind, ObjectRules, OperationRequest};

const SETUP: &str = "CREATE TABLE t (id INT PRIMARY KEY, secret VARCHAR(20));
    INSERT INTO t VALUES (1, 'keep'), (2, 'me');
    CREATE PROCEDURE p() DELETE FROM t;
    CREATE FUNCTION wipe() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM t; RETURN 1; END";

async fn assert_untouched(db: &mut common::Db) {
    let row: (i64, String) = db
        .admin
        .query_first("SELECT COUNT(*), GROUP_CONCAT(secret ORDER BY id) FROM t")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row, (2, "keep,me".to_owned()), "table t changed");
    let tables: i64 = db
        .admin
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
            (db.name.as_str(),),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tables, 1, "a table was created or dropped");
}

#[tokio::test]
async fn escapes_are_refused_and_nothing_changes() {
    let mut db = common::database(SETUP).await;
    let connector = common::connector_with(&db.name, json!({"read_only": false})).await;
    let policy = common::read_write_policy();
    let outfile = std::env::temp_dir().join(format!("tributary-outfile-{}", db.name));
    let out = outfile.display().to_string();
    let attacks = [
        "SELECT 1; DELETE FROM t".to_owned(),
        "SELECT 1; COMMIT; DROP TABLE t".to_owned(),
        "/* harmless */ DELETE FROM t".to_owned(),
        format!("SELECT * FROM t INTO OUTFILE '{out}'"),
        format!("SELECT * FROM t INTO DUMPFILE '{out}'"),
        format!("SELECT * FROM t WHERE id = 1 INTO/**/OUTFILE '{out}'"),
        format!("SELECT * FROM t /*! INTO OUTFILE '{out}' */"),
        "SELECT 1 /*!50000 ; DELETE FROM t */".to_owned(),
        "SELECT 1 /*M! ; DELETE FROM t */".to_owned(),
        "SELECT secret INTO @x FROM t LIMIT 1".to_owned(),
        "SELECT LOAD_FILE('/etc/passwd')".to_owned(),
        "SELECT SLEEP(30)".to_owned(),
        "SELECT BENCHMARK(1000000000, MD5('x'))".to_owned(),
        "SELECT GET_LOCK('x', 1)".to_owned(),
        "SELECT wipe()".to_owned(),
        format!("SELECT `{}`.wipe()", db.name),
        "REPLACE INTO t VALUES (1, 'x')".to_owned(),
        "INSERT INTO t VALUES (3, 'x')".to_owned(),
        "UPDATE t SET secret = 'x'".to_owned(),
        "CREATE TABLE x (a INT)".to_owned(),
        "DROP TABLE t".to_owned(),
        "TRUNCATE TABLE t".to_owned(),
        "CALL p()".to_owned(),
        "PREPARE s FROM 'DELETE FROM t'".to_owned(),
        "EXECUTE s".to_owned(),
        "SET SESSION TRANSACTION READ WRITE".to_owned(),
        "SET autocommit = 1".to_owned(),
        "GRANT ALL ON *.* TO 'x'@'%'".to_owned(),
        "LOCK TABLES t WRITE".to_owned(),
        "HANDLER t OPEN".to_owned(),
        "SHOW PROCESSLIST".to_owned(),
        "SELECT * FROM t FOR UPDATE".to_owned(),
        "SELECT * FROM t LOCK IN SHARE MODE".to_owned(),
        "LOAD DATA INFILE '/etc/hostname' INTO TABLE t".to_owned(),
    ];
    for sql in &attacks {
        let error = connector
            .call(OperationRequest::new("query", json!({ "sql": sql })), &policy)
            .await
            .expect_err(sql);
        // The read-only rules deny (audited as `denied`); what does not parse is bad input.
        let expected = if error.message().starts_with("refused:") {
            ErrorKind::PermissionDenied
        } else {
            assert!(error.message().contains("parser"), "{sql}: {error}");
            ErrorKind::InvalidInput
        };
        assert_eq!(error.kind(), expected, "{sql}: {error}");
    }
    assert_untouched(&mut db).await;
    assert!(!outfile.exists(), "a file was written");
}

#[tokio::test]
async fn system_schemas_are_reported_for_the_permission_check() {
    let db = common::database("CREATE TABLE t (id INT PRIMARY KEY)").await;
    let connector = common::connector_with(&db.name, json!({})).await;
    let own = format!("{}.*", db.name);
    let policy = AccessPolicy::new([AccessClass::Read], ObjectRules::only([own.as_str()]).unwrap());
    for (sql, object) in [
        ("SELECT user, password FROM mysql.user", "mysql.user"),
        (
            "SELECT * FROM information_schema.PROCESSLIST",
            "information_schema.PROCESSLIST",
        ),
        (
            "SELECT * FROM t JOIN performance_schema.threads",
            "performance_schema.threads",
        ),
    ] {
        let plan = connector
            .plan(OperationRequest::new("query", json!({ "sql": sql })))
            .await
            .unwrap();
        assert!(
            plan.access().objects.contains(object),
            "{sql}: {:?}",
            plan.access()
        );
        let error = connector
            .call(OperationRequest::new("query", json!({ "sql": sql })), &policy)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{sql}");
    }
    let plan = connector
        .plan(OperationRequest::new("query", json!({"sql": "SELECT * FROM t"})))
        .await
        .unwrap();
    assert_eq!(
        plan.access().objects.iter().collect::<Vec<_>>(),
        [format!("{}.t", db.name).as_str()]
    );
    assert!(
        connector
            .call(
                OperationRequest::new("query", json!({"sql": "SELECT * FROM t"})),
                &policy
            )
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn read_only_connectors_refuse_writes_and_sessions_are_read_only() {
    let mut db = common::database(SETUP).await;
    let connector = common::connector_with(&db.name, json!({})).await;
    let policy = common::read_write_policy();
    for (operation, params) in [
        (
            "insert",
            json!({"table": "t", "rows": [{"id": 3, "secret": "x"}]}),
        ),
        (
            "update",
            json!({"table": "t", "set": {"secret": "x"}, "filter": {"id": 1}}),
        ),
        ("delete", json!({"table": "t", "filter": {"id": 1}})),
    ] {
        let error = connector
            .call(OperationRequest::new(operation, params), &policy)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{operation}: {error}");
    }
    // Even a function that writes, were it to pass the guard, would meet a read-only transaction: prove the
    // session setup by reading the session's own flag through a table that is not a function.
    let output = connector
        .query("SELECT VARIABLE_VALUE FROM information_schema.SESSION_VARIABLES WHERE VARIABLE_NAME IN ('TX_READ_ONLY', 'TIME_ZONE', 'MAX_STATEMENT_TIME') ORDER BY VARIABLE_NAME", vec![], None)
        .await
        .unwrap();
    assert_eq!(common::rows(&output), json!([["30.000000"], ["+00:00"], ["ON"]]));
    assert_untouched(&mut db).await;
}

#[tokio::test]
async fn identifiers_in_structured_writes_cannot_inject() {
    let mut db = common::database(SETUP).await;
    let connector = common::connector_with(&db.name, json!({"read_only": false})).await;
    let policy = common::read_write_policy();
    for params in [
        json!({"table": "t; DROP TABLE t", "filter": {"id": 1}}),
        json!({"table": "t", "filter": {"id` = `id` OR 1=1 -- ": 1}}),
        json!({"table": "t", "filter": {}}),
    ] {
        let error = connector
            .call(OperationRequest::new("delete", params.clone()), &policy)
            .await
            .unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput),
            "{params}: {error}"
        );
    }
    let params = json!({"table": "t", "filter": {"secret": "keep' OR '1'='1"}});
    let output = connector
        .call(OperationRequest::new("delete", params), &policy)
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&output).unwrap()["data"]["affected"], 0);
    assert_untouched(&mut db).await;
}
