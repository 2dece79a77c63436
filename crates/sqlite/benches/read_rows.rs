//! Reading 10,000 rows as JSON through the connector (guard, name resolution, a kept read-only connection
//! with the authorizer, type mapping) against the same read through bare rusqlite: on the calling thread,
//! on a tokio blocking thread (how an async service has to run it), and on a fresh connection.
//!
//! `cargo bench -p tributary-sqlite`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    clippy::disallowed_methods
)]

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use tributary_sqlite::{SqliteConfig, SqliteConnector, config};

const ROWS: u64 = 10_000;

/// The bare read: every row to JSON by hand, then serialized, as a service without Tributary would.
fn read_all(connection: &rusqlite::Connection) {
    let mut statement = connection.prepare("SELECT * FROM items").unwrap();
    let json: Vec<Value> = statement
        .query_map([], |row| {
            Ok(json!([
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, f64>(3)?,
                row.get::<_, bool>(4)?
            ]))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(serde_json::to_vec(&json).unwrap().len() > 100_000);
}

fn read_rows(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let bare = rusqlite::Connection::open(&path).unwrap();
    bare.execute_batch(
        "CREATE TABLE items (id INTEGER, big INTEGER, name TEXT, ratio REAL, even BOOLEAN);
         WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10000)
         INSERT INTO items SELECT i, i * 1000, 'item number ' || i, i / 7.0, i % 2 = 0 FROM r;",
    )
    .unwrap();
    let values = config::spec()
        .validate(&json!({"path": path.display().to_string(), "max_rows": ROWS}))
        .unwrap();
    let connector = SqliteConnector::new(SqliteConfig::from_values(&values).unwrap()).unwrap();

    let mut group = c.benchmark_group("sqlite_read_10k_rows_as_json");
    group.sample_size(30);
    group.bench_function("bare_rusqlite", |b| {
        b.iter(|| {
            read_all(&bare);
        })
    });
    group.bench_function("bare_rusqlite_fresh_read_only_connection", |b| {
        b.iter(|| {
            let fresh =
                rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .unwrap();
            read_all(&fresh);
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
    let shared = std::sync::Arc::new(std::sync::Mutex::new(rusqlite::Connection::open(&path).unwrap()));
    group.bench_function("bare_rusqlite_on_blocking_thread", |b| {
        b.to_async(&runtime).iter(|| {
            let shared = shared.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let conn = shared.lock().unwrap();
                    read_all(&conn);
                })
                .await
                .unwrap()
            }
        })
    });
    group.finish();
}

criterion_group!(benches, read_rows);
criterion_main!(benches);
