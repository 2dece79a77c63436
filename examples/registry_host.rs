//! A host that embeds the registry: connectors and agents defined in code, a grant, and tool calls that go
//! through the governed path (permissions, masking, audit).
//!
//! `cargo run --example registry_host --features registry` builds a SQLite shop database in a temporary
//! folder, registers it for organization `acme` with reads allowed on customers and orders only, grants it
//! to an agent, and prints: the agent's tools, a query whose PII comes back masked, a query on a table the
//! connector does not allow (refused, with the reason), and the audit log.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;

use serde_json::json;
use tributary::core::{AccessClass, Error, ObjectRules, Result};
use tributary::registry::{
    AuditQuery, ConnectorTypes, Governance, KeyRing, MasterKey, NewConnector, Origin, Registry, SqliteStore,
};

fn expect(condition: bool, what: &str) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(Error::internal(format!("the example went wrong: {what}")))
    }
}

fn shop_database(path: &std::path::Path) -> Result<()> {
    let connection = rusqlite::Connection::open(path).map_err(|e| Error::internal(e.to_string()))?;
    connection
        .execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT);
             INSERT INTO customers VALUES (1, 'Ada Lovelace', 'ada@example.com', '+44 20 7946 0958'),
                                          (2, 'Grace Hopper', 'grace@example.com', '(415) 555-2671');
             CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL);
             INSERT INTO orders VALUES (10, 1, 99.5), (11, 2, 12.0);
             CREATE TABLE payroll (id INTEGER PRIMARY KEY, salary INTEGER);",
        )
        .map_err(|e| Error::internal(e.to_string()))
}

#[tokio::main]
async fn main() -> Result<()> {
    let folder = tempfile::tempdir().map_err(|e| Error::internal(e.to_string()))?;
    let database = folder.path().join("shop.db");
    shop_database(&database)?;

    // The host provides the store and the master key (here generated; in production from an environment
    // variable or an owner-only key file).
    let store = SqliteStore::open(&folder.path().join("registry.db")).await?;
    let registry = Registry::new(
        Arc::new(store),
        KeyRing::new(MasterKey::generate()?),
        ConnectorTypes::with_defaults(),
    )?;

    let shop = registry
        .create_connector(
            "acme",
            NewConnector {
                name: "shop".into(),
                connector_type: "sqlite".into(),
                config: json!({ "path": database.display().to_string() }),
                governance: Governance {
                    allowed_operations: [AccessClass::Read].into(),
                    allowed_objects: ObjectRules::only(["main.customers", "main.orders"])?,
                    mask_pii: true,
                    audit_queries: true,
                    cache_ttl_seconds: 30,
                    queries_per_minute: Some(600),
                    // The rest (per-call caps) as the server sets them.
                    ..Governance::default()
                },
            },
            Origin::Operator,
        )
        .await?;
    registry.put_agent("acme", "support-bot", "Support bot").await?;
    registry
        .grant("acme", "support-bot", &shop.id, [AccessClass::Read].into())
        .await?;
    println!(
        "test: {}",
        serde_json::to_string(&registry.test_connection("acme", &shop.id).await?).unwrap_or_default()
    );

    let tools = registry.tools_for_agent("acme", "support-bot").await?;
    println!(
        "tools: {:?}",
        tools.iter().map(|tool| tool.name.as_str()).collect::<Vec<_>>()
    );

    let customers = registry
        .call_tool(
            "acme",
            "support-bot",
            "shop_query",
            json!({ "sql": "SELECT name, email, phone FROM customers ORDER BY id" }),
        )
        .await?;
    println!(
        "customers: {}",
        serde_json::to_string(&customers).unwrap_or_default()
    );
    expect(customers.masked.get("email") == Some(&2), "emails are masked")?;

    let payroll = registry
        .call_tool(
            "acme",
            "support-bot",
            "shop_query",
            json!({ "sql": "SELECT salary FROM payroll" }),
        )
        .await;
    let refused = payroll.err().map(|error| error.report());
    println!("payroll: {}", serde_json::to_string(&refused).unwrap_or_default());
    expect(
        refused.is_some_and(|report| report.kind == tributary::ErrorKind::PermissionDenied),
        "payroll is refused",
    )?;

    let audit = registry
        .audit(&AuditQuery {
            organization: "acme".into(),
            ..AuditQuery::default()
        })
        .await?;
    for record in audit.iter().rev() {
        println!(
            "audit: {} {} {:?} {:?} rows={}",
            record.agent, record.operation, record.objects, record.outcome, record.rows
        );
    }
    expect(audit.len() == 3, "three audited calls")?;
    println!("ok: masked, refused and audited as configured");
    Ok(())
}
