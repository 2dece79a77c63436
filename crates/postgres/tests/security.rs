//! Every SQL item of `shared/reference/security-pitfalls.md` against a real PostgreSQL, through the same
//! `Connector::call` path agents use, as a superuser (the worst case: only Tributary stands in the way).
//! After each attempt the data, the sequence and the session settings are checked unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::json;
use tributary_core::{Connector, ErrorKind, OperationRequest};

const SETUP: &str = "CREATE TABLE t (id int PRIMARY KEY, secret text);
    INSERT INTO t VALUES (1, 'keep'), (2, 'me');
    CREATE SEQUENCE s;
    CREATE FUNCTION wipe() RETURNS int LANGUAGE sql AS 'DELETE FROM t RETURNING 1';
    CREATE PROCEDURE p() LANGUAGE sql AS 'DELETE FROM t';
    CREATE FUNCTION wipe2(int, int) RETURNS bool LANGUAGE sql AS 'DELETE FROM t RETURNING true';
    CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = wipe2);
    CREATE OPERATOR ~~~ (LEFTARG = int, RIGHTARG = int, FUNCTION = wipe2);";

async fn assert_untouched(db: &common::Db) {
    let row = db
        .admin
        .query_one("SELECT count(*), string_agg(secret, ',' ORDER BY id) FROM t", &[])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, String>(1)),
        (2, "keep,me".to_owned()),
        "table t changed"
    );
    let row = db
        .admin
        .query_one("SELECT last_value, is_called FROM s", &[])
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(1), "sequence s was advanced");
    let gone = db
        .admin
        .query_opt("SELECT 1 FROM pg_class WHERE relname = 'new_table'", &[])
        .await
        .unwrap();
    assert!(gone.is_none(), "a table was created");
}

#[tokio::test]
async fn escapes_are_refused_and_nothing_changes() {
    let db = common::database(SETUP).await;
    // Writes allowed by the connector and the policy: only the guard and the read-only transaction remain.
    let connector = common::connector_with(&db.name, json!({"read_only": false})).await;
    let policy = common::read_write_policy();
    let attacks = [
        "SELECT 1; COMMIT; DROP TABLE t",
        "SELECT 1; DELETE FROM t",
        "/* harmless */ DELETE FROM t",
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "WITH u AS (UPDATE t SET secret = 'x' RETURNING *) SELECT * FROM u",
        "SELECT * INTO new_table FROM t",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_catalog.pg_read_file('PG_VERSION')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_export(1, '/tmp/tributary-x')",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT nextval('s')",
        "SELECT * FROM t WHERE id = (SELECT nextval('s'))",
        "SELECT wipe()",
        "SELECT public.wipe()",
        "SELECT 1 === 2",
        "SELECT 1 ~~~ 2",
        "SELECT 1 OPERATOR(public.===) 2",
        "SELECT pg_sleep(30)",
        "SELECT query_to_xml('delete from t returning 1', true, true, '')",
        "COPY t TO PROGRAM 'true'",
        "COPY (SELECT 1) TO '/tmp/tributary-copy'",
        "DO $$ BEGIN DELETE FROM t; END $$",
        "CALL p()",
        "PREPARE x AS DELETE FROM t",
        "EXECUTE x",
        "SET default_transaction_read_only = off",
        "GRANT ALL ON t TO PUBLIC",
        "LOCK TABLE t",
        "SELECT * FROM t FOR UPDATE",
        "EXPLAIN ANALYZE DELETE FROM t",
        "DROP TABLE t",
        "TRUNCATE t",
    ];
    for sql in attacks {
        let request = OperationRequest::new("query", json!({ "sql": sql }));
        let error = connector.call(request, &policy).await.expect_err(sql);
        // The read-only rules deny (audited as `denied`); what does not parse is bad input.
        let expected = if error.message().starts_with("refused:") {
            ErrorKind::PermissionDenied
        } else {
            assert!(error.message().contains("parser"), "{sql}: {error}");
            ErrorKind::InvalidInput
        };
        assert_eq!(error.kind(), expected, "{sql}: {error}");
    }
    assert_untouched(&db).await;
}

#[tokio::test]
async fn the_transaction_is_read_only_even_for_what_the_guard_allows() {
    let db = common::database(SETUP).await;
    let connector = common::connector_with(&db.name, json!({"read_only": false})).await;
    // The session and the query's own transaction are read-only: the server itself says so.
    let output = connector
        .query("SELECT setting FROM pg_settings WHERE name IN ('transaction_read_only', 'statement_timeout') ORDER BY name", vec![], None)
        .await
        .unwrap();
    let json = serde_json::to_value(&output).unwrap();
    assert_eq!(
        json["data"]["rows"],
        json!([["30000"], ["on"]]),
        "statement_timeout 30 s in ms, read-only on"
    );
    assert_untouched(&db).await;
}

#[tokio::test]
async fn system_catalogs_are_reported_for_the_permission_check() {
    let db = common::database(SETUP).await;
    let connector = common::connector_with(&db.name, json!({})).await;
    let policy = tributary_core::AccessPolicy::new(
        [tributary_core::AccessClass::Read],
        tributary_core::ObjectRules::only(["public.*"]).unwrap(),
    );
    for (sql, object) in [
        ("SELECT rolpassword FROM pg_authid", "pg_catalog.pg_authid"),
        ("SELECT * FROM pg_catalog.pg_shadow", "pg_catalog.pg_shadow"),
        (
            "SELECT * FROM information_schema.tables",
            "information_schema.tables",
        ),
        ("SELECT * FROM t JOIN pg_user ON true", "pg_catalog.pg_user"),
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
        .plan(OperationRequest::new("query", json!({"sql": "SELECT * FROM T"})))
        .await
        .unwrap();
    assert_eq!(plan.access().objects.iter().collect::<Vec<_>>(), ["public.t"]);
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
async fn a_read_only_connector_refuses_structured_writes_before_the_database() {
    let db = common::database(SETUP).await;
    let connector = common::connector_with(&db.name, json!({})).await;
    let policy = common::read_write_policy();
    for (operation, params) in [
        (
            "insert",
            json!({"table": "public.t", "rows": [{"id": 3, "secret": "x"}]}),
        ),
        (
            "update",
            json!({"table": "public.t", "set": {"secret": "x"}, "filter": {"id": 1}}),
        ),
        ("delete", json!({"table": "public.t", "filter": {"id": 1}})),
    ] {
        let error = connector
            .call(OperationRequest::new(operation, params), &policy)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{operation}: {error}");
    }
    assert_untouched(&db).await;
}

#[tokio::test]
async fn identifiers_in_structured_writes_cannot_inject() {
    let db = common::database(SETUP).await;
    let connector = common::connector_with(&db.name, json!({"read_only": false})).await;
    let policy = common::read_write_policy();
    for params in [
        json!({"table": "public.t; DROP TABLE t", "filter": {"id": 1}}),
        json!({"table": "public.t", "filter": {"id = id OR 1=1 --": 1}}),
        json!({"table": "public.t", "filter": {}}),
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
    // A value that looks like SQL is just a value.
    let params = json!({"table": "public.t", "filter": {"secret": "keep' OR '1'='1"}});
    let output = connector
        .call(OperationRequest::new("delete", params), &policy)
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&output).unwrap()["data"]["affected"], 0);
    assert_untouched(&db).await;
}

#[tokio::test]
async fn a_name_that_changes_meaning_after_authorization_does_not_run() {
    let db = common::database(SETUP).await;
    let connector = common::connector_with(&db.name, json!({})).await;
    let request = OperationRequest::new("query", json!({"sql": "SELECT secret FROM t"}));
    let plan = connector.plan(request.clone()).await.unwrap();
    assert_eq!(plan.access().objects.iter().collect::<Vec<_>>(), ["public.t"]);
    // "$user" comes first in the default search_path: a schema named after the user now shadows public.t.
    let user: String = db
        .admin
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    db.admin
        .batch_execute(&format!("CREATE SCHEMA \"{user}\"; CREATE TABLE \"{user}\".t (secret text); INSERT INTO \"{user}\".t VALUES ('other')"))
        .await
        .unwrap();
    let error = connector.execute(plan).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");
    assert!(error.is_retryable());
    // Planned again, the access names the table that will really be read.
    let plan = connector.plan(request).await.unwrap();
    assert_eq!(
        plan.access().objects.iter().collect::<Vec<_>>(),
        [format!("{user}.t").as_str()]
    );
    let output = connector.execute(plan).await.unwrap();
    assert_eq!(
        serde_json::to_value(&output).unwrap()["data"]["rows"],
        json!([["other"]])
    );
}
