//! Shared setup: a registry over a fresh store, and SQLite databases with customers (PII), orders and a
//! table no agent should reach.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use tributary_core::{AccessClass, ObjectRules};
use tributary_registry::{
    ConnectorTypes, Governance, KeyRing, MasterKey, NewConnector, Origin, Registry, SqliteStore, Store,
};

pub struct Host {
    pub registry: Registry,
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
}

/// A registry over a SQLite store in a fresh folder.
pub async fn host() -> Host {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("registry.db")).await.unwrap());
    let registry = Registry::new(
        store.clone(),
        KeyRing::new(MasterKey::generate().unwrap()),
        ConnectorTypes::with_defaults(),
    )
    .unwrap();
    Host { registry, dir, store }
}

/// A SQLite database at `path` with customers, orders and secrets.
pub fn shop_database(path: &Path) {
    let connection = rusqlite::Connection::open(path).unwrap();
    connection
        .execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT, notes TEXT);
             INSERT INTO customers VALUES (1, 'Ada Lovelace', 'ada@example.com', '+44 20 7946 0958', 'card 4111 1111 1111 1111');
             INSERT INTO customers VALUES (2, 'Grace Hopper', 'grace@example.com', '(415) 555-2671', 'prefers phone');
             CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL, status TEXT);
             INSERT INTO orders VALUES (10, 1, 99.5, 'open'), (11, 2, 12.0, 'shipped'), (12, 1, 5.25, 'open');
             CREATE TABLE secrets (id INTEGER PRIMARY KEY, value TEXT);
             INSERT INTO secrets VALUES (1, 'launch codes');",
        )
        .unwrap();
}

pub fn governance(operations: &[AccessClass], objects: Option<&[&str]>) -> Governance {
    Governance {
        allowed_operations: operations.iter().copied().collect::<BTreeSet<_>>(),
        allowed_objects: match objects {
            Some(objects) => ObjectRules::only(objects.iter().copied()).unwrap(),
            None => ObjectRules::Any,
        },
        ..Governance::default()
    }
}

/// A SQLite connector on a fresh shop database in `host`'s folder.
pub async fn sqlite_connector(
    host: &Host,
    organization: &str,
    name: &str,
    governance: Governance,
    read_only: bool,
) -> String {
    let path = host.dir.path().join(format!("{organization}-{name}.db"));
    if !path.exists() {
        shop_database(&path);
    }
    host.registry
        .create_connector(
            organization,
            NewConnector {
                name: name.into(),
                connector_type: "sqlite".into(),
                config: json!({"path": path.display().to_string(), "read_only": read_only}),
                governance,
            },
            Origin::Operator,
        )
        .await
        .unwrap()
        .id
}

pub fn rows(result: &tributary_registry::ToolResult) -> Vec<Vec<Value>> {
    match &result.data {
        tributary_core::Data::Rows(rows) => rows.rows.clone(),
        other => panic!("expected rows, got {other:?}"),
    }
}
