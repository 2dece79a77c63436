//! Reading 10,000 rows as JSON through the connector (guard, name resolution, pool, read-only
//! transaction, portal, type mapping) against the same read through bare tokio-postgres.
//!
//! `cargo bench -p tributary-postgres` (starts a throwaway PostgreSQL through the testkit, or uses
//! `TRIBUTARY_TEST_POSTGRES_URL`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use tributary_postgres::{PostgresConfig, PostgresConnector, config};

const ROWS: u64 = 10_000;

fn setup(runtime: &tokio::runtime::Runtime) -> (PostgresConnector, tokio_postgres::Client) {
    runtime.block_on(async {
        let server = tributary_testkit::postgres().await.unwrap();
        let database = server.create_database().await.unwrap();
        let admin = server.connect(&database).await.unwrap();
        admin
            .batch_execute(
                "CREATE TABLE items AS SELECT g AS id, g::int8 * 1000 AS big, 'item number ' || g AS name, \
                 g / 7.0::float8 AS ratio, g % 2 = 0 AS even FROM generate_series(1, 10000) g",
            )
            .await
            .unwrap();
        let values = config::spec()
            .validate(&json!({
                "host": server.host(), "port": server.port(), "database": database, "user": server.user(),
                "password": server.password(), "tls_mode": "disable", "max_rows": ROWS, "pool_size": 1
            }))
            .unwrap();
        let connector = PostgresConnector::new(PostgresConfig::from_values(&values).unwrap()).unwrap();
        (connector, admin)
    })
}

fn read_rows(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (connector, bare) = setup(&runtime);
    let mut group = c.benchmark_group("read_10k_rows_as_json");
    group.sample_size(30);
    group.bench_function("bare_tokio_postgres", |b| {
        b.to_async(&runtime).iter(|| async {
            let rows = bare.query("SELECT * FROM items", &[]).await.unwrap();
            assert!(encode(&rows).len() > 100_000);
        })
    });
    // The stricter floor: the statement prepared once, as the connector keeps it.
    let prepared = runtime.block_on(bare.prepare("SELECT * FROM items")).unwrap();
    group.bench_function("bare_tokio_postgres_prepared_once", |b| {
        b.to_async(&runtime).iter(|| async {
            let rows = bare.query(&prepared, &[]).await.unwrap();
            assert!(encode(&rows).len() > 100_000);
        })
    });
    group.bench_function("tributary_connector", |b| {
        b.to_async(&runtime).iter(|| async {
            let output = connector
                .query("SELECT * FROM items", vec![], Some(ROWS))
                .await
                .unwrap();
            let bytes = serde_json::to_vec(&output).unwrap();
            assert!(bytes.len() > 100_000 && output.truncation.is_none());
        })
    });
    group.finish();
}

/// The rows as a JSON array of arrays, the bare driver's equivalent of the connector's output.
fn encode(rows: &[tokio_postgres::Row]) -> Vec<u8> {
    let json: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!([
                row.get::<_, i32>(0),
                row.get::<_, i64>(1),
                row.get::<_, String>(2),
                row.get::<_, f64>(3),
                row.get::<_, bool>(4)
            ])
        })
        .collect();
    serde_json::to_vec(&json).unwrap()
}

criterion_group!(benches, read_rows);
criterion_main!(benches);
