//! The embedded default: with no configuration, a working demo in one folder (`tributary-data`, or
//! `$TRIBUTARY_DATA_DIR`). On first start it creates the store, an owner-only key file, a SQLite shop
//! with customers (names, emails, phones, cards: PII) and 200 orders, a payroll table no one is allowed to
//! read, a folder of sample documents, organization `demo` with both connectors, and agent `demo-agent`
//! granted read access. Later starts reuse all of it.
//!
//! The demo's own connectors are the operator's (they read files in the data folder); connectors its admin
//! creates through the API or the console are a tenant's, under the default [`TenantPolicy`]: no host
//! files, no loopback or private addresses. The store and the key files are protected from every connector.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use tributary_core::{AccessClass, Error, ObjectRules, Result, TenantPolicy};
use tributary_registry::{
    ConnectorUpdate, Governance, MasterKey, NewConnector, Origin, Registry, SqliteStore,
};

use crate::host::{Host, KeySource, write_key_file};
use crate::settings::Settings;

/// The demo's organization.
pub const ORGANIZATION: &str = "demo";
/// The demo's agent.
pub const AGENT: &str = "demo-agent";

/// The demo's folder.
pub fn data_dir() -> PathBuf {
    std::env::var_os("TRIBUTARY_DATA_DIR").map_or_else(|| PathBuf::from("tributary-data"), PathBuf::from)
}

fn io(what: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |error| Error::internal(format!("{what}: {error}"))
}

#[allow(
    clippy::disallowed_methods,
    reason = "the operator's demo writes its own sample database"
)]
fn shop_database(path: &Path) -> Result<()> {
    let connection = rusqlite::Connection::open(path)
        .map_err(|e| Error::internal(format!("cannot create the demo database: {e}")))?;
    let mut script = String::from(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT, card TEXT, city TEXT);
         INSERT INTO customers VALUES
           (1, 'Ada Lovelace', 'ada@example.com', '+44 20 7946 0958', '4111 1111 1111 1111', 'London'),
           (2, 'Grace Hopper', 'grace@example.com', '(415) 555-2671', '5500 0000 0000 0004', 'New York'),
           (3, 'Alan Turing', 'alan@example.org', '+44 161 496 0000', '3782 822463 10005', 'Manchester'),
           (4, 'Katherine Johnson', 'kj@example.net', '(757) 555-0142', '6011 1111 1111 1117', 'Hampton');
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL, status TEXT, note TEXT);
         CREATE TABLE payroll (employee TEXT, salary INTEGER);
         INSERT INTO payroll VALUES ('Ada Lovelace', 250000);",
    );
    for id in 1..=200 {
        let note = if id % 50 == 0 {
            "customer asked to reply to ada@example.com"
        } else {
            "standard delivery"
        };
        script.push_str(&format!(
            "INSERT INTO orders VALUES ({id}, {}, {}.{:02}, '{}', '{note}');",
            id % 4 + 1,
            10 + id * 3 % 90,
            id % 100,
            ["open", "shipped", "delivered"][id as usize % 3]
        ));
    }
    connection
        .execute_batch(&script)
        .map_err(|e| Error::internal(format!("cannot fill the demo database: {e}")))
}

fn documents(folder: &Path) -> Result<()> {
    std::fs::create_dir_all(folder.join("policies")).map_err(io("cannot create the demo documents"))?;
    std::fs::create_dir_all(folder.join("tickets")).map_err(io("cannot create the demo documents"))?;
    let files = [
        (
            "policies/refunds.md",
            "# Refunds\nRefunds are paid within 5 working days to the original card.\n",
        ),
        (
            "policies/shipping.md",
            "# Shipping\nWe ship worldwide; tracking numbers arrive by email.\n",
        ),
        (
            "tickets/4711.txt",
            "Ticket 4711 from grace@example.com: card 5500 0000 0000 0004 was charged twice. Call back on (415) 555-2671.\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(folder.join(name), text).map_err(io("cannot write a demo document"))?;
    }
    Ok(())
}

/// Opens the demo in `dir`, creating it on first use. Returns the host and whether it was just created.
pub async fn open(dir: &Path) -> Result<(Host, bool)> {
    open_with(dir, &TenantPolicy::default()).await
}

/// Opens the demo in `dir` with `policy` for the connectors its admin creates (tests that need loopback
/// services say so here).
pub async fn open_with(dir: &Path, policy: &TenantPolicy) -> Result<(Host, bool)> {
    std::fs::create_dir_all(dir).map_err(io("cannot create the data folder"))?;
    let key_path = dir.join("master.key");
    let fresh = !key_path.exists();
    if fresh {
        write_key_file(&key_path, &MasterKey::generate()?)?;
    }
    let key = MasterKey::from_file(&key_path)?;
    let store = SqliteStore::open(&dir.join("tributary.db")).await?;
    let key_source = KeySource::File(key_path);
    let protected = crate::host::protected_paths(&key_source, None);
    let mut settings = Settings::default();
    settings.security.tenants = policy.clone();
    let registry = Arc::new(crate::host::registry(
        Arc::new(store),
        key,
        &settings,
        &protected,
    )?);
    if fresh {
        create(&registry, dir).await?;
    } else {
        adopt(&registry, dir).await?;
    }
    let host = Host {
        registry,
        settings,
        key_source,
    };
    Ok((host, fresh))
}

/// The demo's files, as its connectors name them.
fn sources(dir: &Path) -> (PathBuf, PathBuf) {
    let demo = dir.join("demo");
    let shop = demo.join("shop.db");
    let docs = demo.join("documents");
    (
        shop.canonicalize().unwrap_or(shop),
        docs.canonicalize().unwrap_or(docs),
    )
}

/// A demo made before connectors recorded their origin has its two connectors stored as a tenant's, which
/// may not read host files: they are the operator's, so they are declared again as such (only while they
/// still point at the demo's own files).
async fn adopt(registry: &Registry, dir: &Path) -> Result<()> {
    let (shop, docs) = sources(dir);
    for (name, field, path) in [("shop", "path", shop), ("documents", "root", docs)] {
        let Ok(id) = registry.connector_id(ORGANIZATION, name).await else {
            continue;
        };
        let view = registry.connector(ORGANIZATION, &id).await?;
        let expected = path.display().to_string();
        if view.origin == Origin::Tenant && view.config.get(field).and_then(|v| v.as_str()) == Some(&expected)
        {
            let update = ConnectorUpdate {
                config: Some(json!({ field: expected })),
                ..ConnectorUpdate::default()
            };
            registry
                .update_connector(ORGANIZATION, &id, update, Origin::Operator)
                .await?;
        }
    }
    Ok(())
}

async fn create(registry: &Registry, dir: &Path) -> Result<()> {
    let demo = dir.join("demo");
    std::fs::create_dir_all(&demo).map_err(io("cannot create the demo folder"))?;
    let shop_path = demo.join("shop.db");
    if !shop_path.exists() {
        shop_database(&shop_path)?;
    }
    documents(&demo.join("documents"))?;
    let (shop_path, docs) = sources(dir);
    let read = || [AccessClass::Read].into_iter().collect();
    let shop = registry
        .create_connector(
            ORGANIZATION,
            NewConnector {
                name: "shop".into(),
                connector_type: "sqlite".into(),
                config: json!({ "path": shop_path.display().to_string() }),
                governance: Governance {
                    allowed_operations: read(),
                    allowed_objects: ObjectRules::only(["main.customers", "main.orders"])?,
                    cache_ttl_seconds: 30,
                    queries_per_minute: Some(6000),
                    ..Governance::default()
                },
            },
            Origin::Operator,
        )
        .await?;
    let documents = registry
        .create_connector(ORGANIZATION, NewConnector {
            name: "documents".into(),
            connector_type: "s3".into(),
            config: json!({ "provider": "local", "root": docs.display().to_string(), "bucket": "documents" }),
            governance: Governance { allowed_operations: read(), ..Governance::default() },
        }, Origin::Operator)
        .await?;
    registry.put_agent(ORGANIZATION, AGENT, "Demo agent").await?;
    registry.grant(ORGANIZATION, AGENT, &shop.id, read()).await?;
    registry.grant(ORGANIZATION, AGENT, &documents.id, read()).await?;
    Ok(())
}
