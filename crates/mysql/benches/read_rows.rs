//! Reading 10,000 rows as JSON through the connector (guard, pool with ping, read-only transaction,
//! prepared statement, type mapping) against the same read through bare mysql_async.
//!
//! `cargo bench -p tributary-mysql` (starts a throwaway MariaDB through the testkit, or uses
//! `TRIBUTARY_TEST_MYSQL_URL`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use mysql_async::prelude::Queryable;
use serde_json::{Value, json};
use tributary_mysql::{MysqlConfig, MysqlConnector, config};

const ROWS: u64 = 10_000;

fn setup(runtime: &tokio::runtime::Runtime) -> (MysqlConnector, mysql_async::Pool) {
    runtime.block_on(async {
        let server = tributary_testkit::mysql().await.unwrap();
        let database = server.create_database().await.unwrap();
        let mut admin = server.connect(Some(&database)).await.unwrap();
        admin
            .query_drop(
                "CREATE TABLE items AS SELECT seq AS id, seq * 1000 AS big, CONCAT('item number ', seq) AS name, \
                 seq / 7e0 AS ratio, seq % 2 = 0 AS even FROM seq_1_to_10000",
            )
            .await
            .unwrap();
        let bare = mysql_async::Pool::new(mysql_async::Opts::from_url(&server.url_for(&database)).unwrap());
        let values = config::spec()
            .validate(&json!({
                "host": server.host(), "port": server.port(), "database": database, "user": server.user(),
                "password": server.password(), "tls_mode": "disable", "max_rows": ROWS, "pool_size": 1
            }))
            .unwrap();
        (MysqlConnector::new(MysqlConfig::from_values(&values).unwrap()).unwrap(), bare)
    })
}

fn read_rows(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (connector, bare) = setup(&runtime);
    let mut group = c.benchmark_group("mysql_read_10k_rows_as_json");
    group.sample_size(30);
    group.bench_function("bare_mysql_async", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut conn = bare.get_conn().await.unwrap();
            let rows: Vec<(u64, u64, String, f64, i64)> = conn.exec("SELECT * FROM items", ()).await.unwrap();
            let json: Vec<Value> = rows
                .into_iter()
                .map(|(a, b, c, d, e)| json!([a, b, c, d, e != 0]))
                .collect();
            assert!(serde_json::to_vec(&json).unwrap().len() > 100_000);
        })
    });
    group.bench_function("tributary_connector", |b| {
        b.to_async(&runtime).iter(|| async {
            let output = connector
                .query("SELECT * FROM items", vec![], Some(ROWS))
                .await
                .unwrap();
            assert!(serde_json::to_vec(&output).unwrap().len() > 100_000 && output.truncation.is_none());
        })
    });
    group.finish();
}

criterion_group!(benches, read_rows);
criterion_main!(benches);
