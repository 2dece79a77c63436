//! Type mapping, discovery, row limits and structured writes against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{Value, json};
use tributary_core::{
    AccessClass, AccessPolicy, Connector, DataType, ObjectKind, ObjectRules, OperationRequest,
};

fn rows(output: &tributary_core::Output) -> Value {
    serde_json::to_value(output).unwrap()["data"]["rows"].clone()
}

#[tokio::test]
async fn every_common_type_maps_to_json_as_documented() {
    let db = common::database(
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE DOMAIN positive AS int CHECK (VALUE > 0);",
    )
    .await;
    let connector = common::connector_with(&db.name, json!({})).await;
    let output = connector
        .query(
            "SELECT 32767::int2, 2147483647::int4, 9223372036854775807::int8, -1::int8,
                    12345678901234567890.000000000001::numeric, 'NaN'::numeric, 1.5::float8, 'NaN'::float8,
                    'Infinity'::float4, '-Infinity'::float8, true, 'héllo'::text, 'x'::varchar(3), 'ab'::char(3),
                    '\\x00ff10'::bytea, '2026-02-28'::date, 'infinity'::date, '13:04:05.00012'::time,
                    '2026-02-28 23:30:00'::timestamp, '2026-03-01 01:30:00+02'::timestamptz, '-infinity'::timestamptz,
                    '1 year 2 mons 3 days 04:05:06.5'::interval, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid,
                    '{\"a\": [1, 2.5, null]}'::json, '{\"b\": {\"c\": true}}'::jsonb, ARRAY[1, NULL, 3],
                    ARRAY[['a', 'b'], ['c', 'd']], 'happy'::mood, 5::positive, NULL::int, '192.168.1.5'::inet,
                    '10.0.0.0/8'::cidr, '08:00:2b:01:02:03'::macaddr, '12:00:00-05:30'::timetz, 12.34::money,
                    '{}'::int[]",
            vec![],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        rows(&output)[0],
        json!([
            32767, 2147483647, 9223372036854775807_i64, -1, "12345678901234567890.000000000001", "NaN", 1.5, "NaN",
            "Infinity", "-Infinity", true, "héllo", "x", "ab ", "AP8Q", "2026-02-28", "infinity", "13:04:05.000120",
            "2026-02-28T23:30:00", "2026-02-28T23:30:00Z", "-infinity", "P1Y2M3DT4H5M6.5S",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", {"a": [1, 2.5, null]}, {"b": {"c": true}}, [1, null, 3],
            [["a", "b"], ["c", "d"]], "happy", 5, null, "192.168.1.5", "10.0.0.0/8", "08:00:2b:01:02:03",
            "12:00:00-05:30", "12.34", []
        ])
    );
    let json = serde_json::to_value(&output).unwrap();
    let types: Vec<&str> = json["data"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["data_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        &types[..5],
        ["integer", "integer", "integer", "integer", "decimal"]
    );
    assert_eq!(types[14], "bytes");
    assert_eq!(types[19], "timestamp_tz");
    assert_eq!(types[21], "interval");
    assert_eq!(types[25], "array");
    assert_eq!(types[27], "enum");
}

#[tokio::test]
async fn parameters_bind_to_the_inferred_types() {
    let db = common::database(
        "CREATE TABLE v (i int, n numeric, b bytea, j jsonb, a text[], t timestamptz, u uuid, f bool);",
    )
    .await;
    let connector = common::connector_with(&db.name, json!({"read_only": false})).await;
    let row = serde_json::from_value(json!({
        "i": 7, "n": "0.1000000000000000000001", "b": "AP8Q", "j": {"k": [1, "two"]}, "a": ["x", "y\"z", null],
        "t": "2026-01-02T03:04:05Z", "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "f": true
    }))
    .unwrap();
    assert_eq!(connector.insert("public.v", vec![row]).await.unwrap(), 1);
    let output = connector
        .query(
            "SELECT i, n, b, j, a, t, u, f FROM v WHERE i = $1 AND n = $2 AND b = $3 AND j = $4 AND a = $5 AND f = $6",
            vec![json!(7), json!("0.1000000000000000000001"), json!("AP8Q"), json!({"k": [1, "two"]}), json!(["x", "y\"z", null]), json!(true)],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        rows(&output),
        json!([[7, "0.1000000000000000000001", "AP8Q", {"k": [1, "two"]}, ["x", "y\"z", null], "2026-01-02T03:04:05Z", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", true]])
    );
    let error = connector
        .query("SELECT $1::int", vec![json!("seven")], None)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), tributary_core::ErrorKind::InvalidInput, "{error}");
    let error = connector.query("SELECT $1::int", vec![], None).await.unwrap_err();
    assert!(error.message().contains("1 placeholder(s) but 0"), "{error}");
}

#[tokio::test]
async fn results_stop_at_the_row_limit_and_say_so() {
    let db = common::database("CREATE TABLE n AS SELECT g AS id FROM generate_series(1, 1000) g;").await;
    let connector = common::connector_with(&db.name, json!({"default_rows": 10, "max_rows": 100})).await;
    let output = connector
        .query("SELECT id FROM n ORDER BY id", vec![], None)
        .await
        .unwrap();
    assert_eq!(rows(&output).as_array().unwrap().len(), 10);
    let truncation = output
        .truncation
        .as_ref()
        .expect("truncated at the default limit");
    assert_eq!((truncation.limit, truncation.returned), (10, 10));
    let capped = connector
        .query("SELECT id FROM n", vec![], Some(5000))
        .await
        .unwrap();
    assert_eq!(
        capped.truncation.as_ref().unwrap().limit,
        100,
        "capped at max_rows"
    );
    let exact = connector
        .query("SELECT id FROM n WHERE id <= 10", vec![], None)
        .await
        .unwrap();
    assert!(exact.truncation.is_none(), "exactly the limit is not truncated");
}

#[tokio::test]
async fn limits_the_statement_cannot_carry_are_kept_by_reading_less() {
    let db = common::database("CREATE TABLE n AS SELECT g AS id FROM generate_series(1, 1000) g;").await;
    let connector = common::connector_with(&db.name, json!({"default_rows": 3, "max_rows": 3})).await;
    // A LIMIT given as a parameter, and FETCH ... WITH TIES, run through a portal read three rows at most.
    for (sql, params) in [
        ("SELECT id FROM n ORDER BY id LIMIT $1", vec![json!(500)]),
        (
            "SELECT id FROM n ORDER BY id / 100 FETCH FIRST 5 ROWS WITH TIES",
            vec![],
        ),
        ("SELECT id FROM n ORDER BY id OFFSET 10", vec![]),
    ] {
        let output = connector.query(sql, params, None).await.unwrap();
        assert_eq!(rows(&output).as_array().unwrap().len(), 3, "{sql}");
        assert_eq!(output.truncation.as_ref().map(|t| t.limit), Some(3), "{sql}");
    }
    let offset = connector
        .query("SELECT id FROM n ORDER BY id OFFSET 10", vec![], None)
        .await
        .unwrap();
    assert_eq!(
        rows(&offset),
        json!([[11], [12], [13]]),
        "the cap keeps the offset"
    );
}

#[tokio::test]
async fn a_statement_asked_again_still_answers_after_its_table_changes() {
    let db = common::database("CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);").await;
    // One session, so the second and third calls reuse the statement the first one prepared.
    let connector = common::connector_with(&db.name, json!({"pool_size": 1})).await;
    let sql = "SELECT * FROM t ORDER BY id";
    for _ in 0..2 {
        let output = connector.query(sql, vec![], None).await.unwrap();
        assert_eq!(rows(&output), json!([[1], [2]]));
    }
    db.admin
        .batch_execute("ALTER TABLE t ADD COLUMN note text DEFAULT 'new'; INSERT INTO t VALUES (3, 'x')")
        .await
        .unwrap();
    let output = connector.query(sql, vec![], None).await.unwrap();
    let columns = serde_json::to_value(&output).unwrap()["data"]["columns"].clone();
    let names: Vec<&str> = columns
        .as_array()
        .unwrap()
        .iter()
        .map(|column| column["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["id", "note"]);
    assert_eq!(rows(&output), json!([[1, "new"], [2, "new"], [3, "x"]]));
}

#[tokio::test]
async fn discovery_finds_views_keys_schemas_and_unusual_names() {
    let db = common::database(
        r#"CREATE SCHEMA sales;
           CREATE SCHEMA "Odd Schema";
           CREATE TABLE public.customers (id int PRIMARY KEY, email text NOT NULL DEFAULT 'x@example.com');
           COMMENT ON TABLE public.customers IS 'people who buy';
           CREATE TABLE sales.orders (id bigint, line int, customer_id int REFERENCES public.customers(id),
                                      total numeric(10,2), PRIMARY KEY (id, line));
           CREATE TABLE "Odd Schema"."We""ird Näme" ("Mixed Case" text, "spaced col" int);
           CREATE VIEW sales.big_orders AS SELECT * FROM sales.orders WHERE total > 100;
           CREATE MATERIALIZED VIEW sales.totals AS SELECT customer_id, sum(total) FROM sales.orders GROUP BY 1;"#,
    )
    .await;
    let connector = common::connector_with(&db.name, json!({})).await;
    let catalog = connector.discover().await.unwrap();
    let names: Vec<&str> = catalog.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Odd Schema.We\"ird Näme",
            "public.customers",
            "sales.big_orders",
            "sales.orders",
            "sales.totals"
        ]
    );
    let customers = catalog.object("public.customers").unwrap();
    assert_eq!(customers.description.as_deref(), Some("people who buy"));
    assert_eq!(customers.primary_key, ["id"]);
    let email = customers.field("email").unwrap();
    assert!(!email.nullable);
    assert_eq!(email.default.as_deref(), Some("'x@example.com'::text"));
    let orders = catalog.object("sales.orders").unwrap();
    assert_eq!(orders.primary_key, ["id", "line"]);
    assert_eq!(orders.foreign_keys[0].references, "public.customers");
    assert_eq!(orders.field("total").unwrap().data_type, DataType::Decimal);
    assert_eq!(orders.field("total").unwrap().native_type, "numeric(10,2)");
    assert_eq!(catalog.object("sales.big_orders").unwrap().kind, ObjectKind::View);
    assert_eq!(
        catalog.object("sales.totals").unwrap().kind,
        ObjectKind::MaterializedView
    );
    let odd = catalog.object("Odd Schema.We\"ird Näme").unwrap();
    assert_eq!(
        odd.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["Mixed Case", "spaced col"]
    );

    // Agents reach the same through operations, and can query the odd table by its quoted name.
    let policy = AccessPolicy::new([AccessClass::Read], ObjectRules::Any);
    let listed = connector
        .call(
            OperationRequest::new("list_objects", json!({"schema": "sales"})),
            &policy,
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&listed).unwrap()["data"]["objects"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let described = connector
        .call(
            OperationRequest::new("describe_object", json!({"object": "Odd Schema.We\"ird Näme"})),
            &policy,
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&described).unwrap()["data"]["fields"][0]["name"],
        "Mixed Case"
    );
    let plan = connector
        .plan(OperationRequest::new(
            "query",
            json!({"sql": r#"SELECT "Mixed Case" FROM "Odd Schema"."We""ird Näme""#}),
        ))
        .await
        .unwrap();
    assert_eq!(
        plan.access().objects.iter().collect::<Vec<_>>(),
        ["Odd Schema.We\"ird Näme"]
    );
    let missing = connector
        .call(
            OperationRequest::new("describe_object", json!({"object": "nope"})),
            &policy,
        )
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), tributary_core::ErrorKind::NotFound);
}

#[tokio::test]
async fn discovery_describes_a_thousand_tables_completely() {
    let db = common::database(
        "DO $$ BEGIN FOR i IN 1..1000 LOOP EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', i); END LOOP; END $$;",
    )
    .await;
    let connector = common::connector_with(&db.name, json!({})).await;
    let started = std::time::Instant::now();
    let catalog = connector.discover().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(catalog.objects.len(), 1000);
    assert!(
        catalog
            .objects
            .iter()
            .all(|o| o.fields.len() == 2 && o.primary_key == ["id"])
    );
    println!("discovered 1000 tables in {elapsed:?}");
}

#[tokio::test]
async fn structured_writes_report_affected_rows() {
    let db = common::database("CREATE TABLE people (id int PRIMARY KEY, name text, team text);").await;
    let connector = common::connector_with(&db.name, json!({"read_only": false})).await;
    let policy = common::read_write_policy();
    let insert = json!({"table": "public.people", "rows": [
        {"id": 1, "name": "Ada", "team": "a"}, {"id": 2, "name": "Bob", "team": "a"}, {"id": 3, "name": "Cy", "team": null}
    ]});
    let output = connector
        .call(OperationRequest::new("insert", insert), &policy)
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&output).unwrap()["data"]["affected"], 3);
    let update = json!({"table": "people", "set": {"team": "b"}, "filter": {"team": "a"}});
    let output = connector
        .call(OperationRequest::new("update", update), &policy)
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&output).unwrap()["data"]["affected"], 2);
    let delete = json!({"table": "public.people", "filter": {"team": null}});
    let output = connector
        .call(OperationRequest::new("delete", delete), &policy)
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&output).unwrap()["data"]["affected"], 1);
    let left = db
        .admin
        .query("SELECT id, team FROM people ORDER BY id", &[])
        .await
        .unwrap();
    assert_eq!(
        left.iter()
            .map(|r| (r.get::<_, i32>(0), r.get::<_, String>(1)))
            .collect::<Vec<_>>(),
        [(1, "b".into()), (2, "b".into())]
    );

    // A failing row rolls the whole insert back.
    let duplicate =
        json!({"table": "public.people", "rows": [{"id": 10, "name": "new"}, {"id": 1, "name": "dup"}]});
    let error = connector
        .call(OperationRequest::new("insert", duplicate), &policy)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), tributary_core::ErrorKind::Conflict, "{error}");
    let count: i64 = db
        .admin
        .query_one("SELECT count(*) FROM people", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 2);
}
