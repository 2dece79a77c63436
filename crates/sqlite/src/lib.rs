//! Tributary's SQLite connector, the embedded default.
//!
//! Read-only SQL guarded twice (the statement guard, then SQLite's own authorizer with `query_only`),
//! structured writes, and schema discovery, on rusqlite with SQLite compiled in.
//!
//! - [`config`]: the [`ConnectorSpec`](tributary_core::ConnectorSpec) and the typed [`SqliteConfig`].
//! - `connection`: kept read connections, a fresh one per write (one shared for `:memory:`), modes,
//!   authorizer, timeout.
//! - `schema`: discovery from `sqlite_schema` and the `pragma_*` table functions.
//! - `operations`: `query`, `list_objects`, `describe_object`, `insert`, `update`, `delete`.
//! - [`types`]: SQLite values to JSON by declared column type, and JSON to parameters.
//! - `error`: driver errors to Tributary error kinds.
//! - [`SqliteConnector`]: the typed API and the `Connector` implementation; [`SqliteFactory`] builds it.
//!
//! ```no_run
//! # async fn demo() -> tributary_core::Result<()> {
//! use serde_json::json;
//! use tributary_sqlite::{SqliteConfig, SqliteConnector, config};
//!
//! let values = config::spec().validate(&json!({ "path": "/var/lib/app/shop.db" }))?;
//! let shop = SqliteConnector::new(SqliteConfig::from_values(&values)?)?;
//! let rows = shop.query("SELECT id, total FROM orders WHERE status = ?", vec![json!("open")], Some(50)).await?;
//! # Ok(()) }
//! ```

pub mod config;
mod connection;
mod connector;
mod error;
mod operations;
mod schema;
pub mod types;

pub use config::SqliteConfig;
pub use connector::{SqliteConnector, SqliteFactory};
