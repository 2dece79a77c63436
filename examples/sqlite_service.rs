//! A Rust service that links one connector and uses its typed API directly, no registry involved.
//!
//! `cargo run --example sqlite_service --features sqlite` creates a SQLite database in a temporary folder,
//! writes rows through the structured `insert`, reads them back with bound parameters, shows a result cut
//! at its row limit, and shows that a read-only connector on the same file refuses SQL that would write.
#![allow(clippy::disallowed_methods)]

use serde_json::{Value, json};
use tributary::core::{Connector, Error, ErrorKind, Result};
use tributary::sqlite::{SqliteConfig, SqliteConnector, config};

fn connector(path: &str, extra: Value) -> Result<SqliteConnector> {
    let mut raw = json!({ "path": path, "default_rows": 2 });
    if let (Some(raw), Value::Object(extra)) = (raw.as_object_mut(), extra) {
        raw.extend(extra);
    }
    SqliteConnector::new(SqliteConfig::from_values(&config::spec().validate(&raw)?)?)
}

fn expect(condition: bool, what: &str) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(Error::internal(format!("the example went wrong: {what}")))
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    // Removed when it goes out of scope, whether the example succeeds or not.
    let folder = tempfile::tempdir().map_err(|e| Error::internal(e.to_string()))?;
    let path = folder.path().join("shop.db").display().to_string();

    create_schema(&path)?;
    let writer = connector(&path, json!({ "read_only": false }))?;
    let rows = ["ada@example.com", "bob@example.com", "cy@example.com"]
        .iter()
        .enumerate()
        .map(|(i, email)| json!({ "id": i + 1, "email": email, "total": format!("{}.50", 10 * (i + 1)) }))
        .filter_map(|row| row.as_object().cloned())
        .collect();
    let inserted = writer.insert("customers", rows).await?;
    println!("inserted {inserted} customers");

    let reader = connector(&path, json!({}))?;
    println!(
        "check: {}",
        serde_json::to_string(&reader.check().await).unwrap_or_default()
    );
    let big = reader
        .query(
            "SELECT id, email, total FROM customers WHERE total > ? ORDER BY id",
            vec![json!(5)],
            None,
        )
        .await?;
    println!(
        "customers with totals over 5 (default limit 2):\n{}",
        serde_json::to_string_pretty(&big).unwrap_or_default()
    );
    expect(
        big.is_truncated(),
        "three rows match and the default limit is two",
    )?;

    let refused = reader.query("DELETE FROM customers", vec![], None).await.err();
    let refused = refused.ok_or_else(|| Error::internal("a DELETE passed the read-only guard"))?;
    println!("DELETE through query: {refused}");
    expect(refused.kind() == ErrorKind::PermissionDenied, "wrong error kind")?;
    let error = reader.insert("customers", vec![]).await.err().map(|e| e.kind());
    expect(
        error == Some(ErrorKind::PermissionDenied),
        "the read-only connector refuses writes",
    )?;

    println!("The typed API held: structured insert, bound parameters, truncation, refused writes.");
    Ok(())
}

/// Creates the example's table. Schema changes are the application's own migrations, not an operation
/// agents get, so the example runs them with rusqlite directly.
fn create_schema(path: &str) -> Result<()> {
    let connection = rusqlite::Connection::open(path).map_err(|e| Error::internal(e.to_string()))?;
    connection
        .execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, total DECIMAL(10,2))",
        )
        .map_err(|e| Error::internal(e.to_string()))
}
