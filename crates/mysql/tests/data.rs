//! Type mapping, discovery, row limits and structured writes against a real MariaDB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use mysql_async::prelude::Queryable;
use serde_json::json;
use tributary_core::{Connector, DataType, ErrorKind, ObjectKind, OperationRequest};

#[tokio::test]
async fn every_common_type_maps_to_json_as_documented() {
    let db = common::database(
        "CREATE TABLE v (ti TINYINT, b BOOLEAN, si SMALLINT, i INT, bi BIGINT, ubi BIGINT UNSIGNED, d DECIMAL(30,12),
            f FLOAT, db DOUBLE, c CHAR(3), vc VARCHAR(10), tx TEXT, vb VARBINARY(8), bl BLOB, dt DATE, tm TIME(6),
            dtm DATETIME(6), ts TIMESTAMP NULL, y YEAR, e ENUM('sad','happy'), st SET('a','b'), bt BIT(8), n INT, js JSON);
         INSERT INTO v VALUES (-128, TRUE, 32767, 2147483647, 9223372036854775807, 18446744073709551615,
            123456789012345678.000000000001, 1.5, 2.25, 'ab', 'héllo', 'long text', x'00ff10', x'cafe', '2026-02-28',
            '-838:59:59.000001', '2026-02-28 23:30:00.000120', '2026-02-28 23:30:00', 2026, 'happy', 'a,b', b'101',
            NULL, '{\"a\": [1, null]}')",
    )
    .await;
    let connector = common::connector_with(&db.name, json!({})).await;
    let output = connector.query("SELECT * FROM v", vec![], None).await.unwrap();
    assert_eq!(
        common::rows(&output)[0],
        json!([
            -128,
            true,
            32767,
            2147483647,
            9223372036854775807_i64,
            18446744073709551615_u64,
            "123456789012345678.000000000001",
            1.5,
            2.25,
            "ab",
            "héllo",
            "long text",
            "AP8Q",
            "yv4=",
            "2026-02-28",
            "-838:59:59.000001",
            "2026-02-28T23:30:00.000120",
            "2026-02-28T23:30:00Z",
            2026,
            "happy",
            "a,b",
            5,
            null,
            "{\"a\": [1, null]}"
        ])
    );
    let json = serde_json::to_value(&output).unwrap();
    let types: Vec<&str> = json["data"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["data_type"].as_str().unwrap())
        .collect();
    assert_eq!(types[1], "boolean");
    assert_eq!(types[6], "decimal");
    assert_eq!(types[12], "bytes");
    assert_eq!(types[17], "timestamp_tz");
    let output = connector
        .query(
            "SELECT ? + 1, ?, ?, ?",
            vec![json!(41), json!("x"), json!(null), json!(true)],
            None,
        )
        .await
        .unwrap();
    assert_eq!(common::rows(&output), json!([[42, "x", null, 1]]));
    let error = connector.query("SELECT ?", vec![], None).await.unwrap_err();
    assert!(error.message().contains("1 placeholder(s) but 0"), "{error}");
}

#[tokio::test]
async fn results_stop_at_the_row_limit_and_say_so() {
    let db = common::database(
        "CREATE TABLE n (id INT PRIMARY KEY);
         INSERT INTO n SELECT seq FROM seq_1_to_1000",
    )
    .await;
    let connector = common::connector_with(&db.name, json!({"default_rows": 10, "max_rows": 100})).await;
    let output = connector
        .query("SELECT id FROM n ORDER BY id", vec![], None)
        .await
        .unwrap();
    assert_eq!(common::rows(&output).as_array().unwrap().len(), 10);
    assert_eq!(output.truncation.as_ref().unwrap().limit, 10);
    assert_eq!(
        connector
            .query("SELECT id FROM n", vec![], Some(5000))
            .await
            .unwrap()
            .truncation
            .unwrap()
            .limit,
        100
    );
    assert!(
        connector
            .query("SELECT id FROM n WHERE id <= 10", vec![], None)
            .await
            .unwrap()
            .truncation
            .is_none()
    );
    // A truncated read leaves no half-read session behind: the next call works on the same pool.
    let output = connector
        .query("SELECT COUNT(*) FROM n", vec![], None)
        .await
        .unwrap();
    assert_eq!(common::rows(&output), json!([[1000]]));
}

#[tokio::test]
async fn discovery_finds_views_keys_and_unusual_names() {
    let db = common::database(
        "CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL DEFAULT 'x@example.com', mood ENUM('sad','happy')) COMMENT 'people who buy';
         CREATE TABLE `Line ``Items`` Ü` (order_id INT, line INT, customer_id INT, `Mixed Case` TEXT,
            PRIMARY KEY (order_id, line), CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id));
         CREATE VIEW big AS SELECT * FROM customers WHERE id > 10",
    )
    .await;
    let connector = common::connector_with(&db.name, json!({})).await;
    let catalog = connector.discover().await.unwrap();
    let name = |table: &str| format!("{}.{table}", db.name);
    let names: Vec<&str> = catalog.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, [name("Line `Items` Ü"), name("big"), name("customers")]);
    let customers = catalog.object(&name("customers")).unwrap();
    assert_eq!(customers.description.as_deref(), Some("people who buy"));
    assert_eq!(customers.primary_key, ["id"]);
    assert!(!customers.field("email").unwrap().nullable);
    assert_eq!(customers.field("mood").unwrap().data_type, DataType::Enum);
    assert_eq!(customers.field("mood").unwrap().allowed_values, ["sad", "happy"]);
    let lines = catalog.object(&name("Line `Items` Ü")).unwrap();
    assert_eq!(lines.primary_key, ["order_id", "line"]);
    assert_eq!(lines.foreign_keys[0].references, name("customers"));
    assert_eq!(catalog.object(&name("big")).unwrap().kind, ObjectKind::View);
    let output = connector
        .query("SELECT `Mixed Case` FROM `Line ``Items`` Ü`", vec![], None)
        .await
        .unwrap();
    assert_eq!(common::rows(&output), json!([]));
    let policy = common::read_write_policy();
    let described = connector
        .call(
            OperationRequest::new("describe_object", json!({"object": name("big")})),
            &policy,
        )
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&described).unwrap()["data"]["kind"], "view");
    let missing = connector
        .call(
            OperationRequest::new("describe_object", json!({"object": "nope"})),
            &policy,
        )
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn structured_writes_report_affected_rows() {
    let mut db = common::database(
        "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(20), photo VARBINARY(8), team VARCHAR(5))",
    )
    .await;
    let connector = common::connector_with(&db.name, json!({"read_only": false})).await;
    let policy = common::read_write_policy();
    let insert = json!({"table": "people", "rows": [
        {"id": 1, "name": "Ada", "photo": "AP8Q", "team": "a"}, {"id": 2, "name": "Bob", "photo": null, "team": "a"},
        {"id": 3, "name": "Cy", "photo": null, "team": null}
    ]});
    let output = connector
        .call(OperationRequest::new("insert", insert), &policy)
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&output).unwrap()["data"]["affected"], 3);
    let update =
        json!({"table": format!("{}.people", db.name), "set": {"team": "b"}, "filter": {"team": "a"}});
    let output = connector
        .call(OperationRequest::new("update", update), &policy)
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&output).unwrap()["data"]["affected"], 2);
    let output = connector
        .call(
            OperationRequest::new("delete", json!({"table": "people", "filter": {"team": null}})),
            &policy,
        )
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&output).unwrap()["data"]["affected"], 1);
    let photo: Vec<u8> = db
        .admin
        .query_first("SELECT photo FROM people WHERE id = 1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(photo, [0, 255, 16]);
    let duplicate = json!({"table": "people", "rows": [{"id": 10, "name": "new"}, {"id": 1, "name": "dup"}]});
    let error = connector
        .call(OperationRequest::new("insert", duplicate), &policy)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");
    let count: i64 = db
        .admin
        .query_first("SELECT COUNT(*) FROM people")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(count, 2, "the failed insert was rolled back whole");
}
