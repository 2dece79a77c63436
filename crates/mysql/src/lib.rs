//! Tributary's MySQL and MariaDB connector.
//!
//! Read-only SQL that cannot be escaped, structured writes, and schema discovery, on mysql_async with
//! rustls.
//!
//! - [`config`]: the [`ConnectorSpec`](tributary_core::ConnectorSpec) and the typed [`MysqlConfig`].
//! - `connection`: the pool, TLS, the MariaDB/MySQL probe and the session setup re-applied after every reset.
//! - `schema`: discovery from `information_schema`.
//! - `operations`: `query`, `list_objects`, `describe_object`, `insert`, `update`, `delete`.
//! - [`types`]: MySQL values to JSON (exact decimals, booleans, UTC timestamps) and JSON to parameters.
//! - `error`: server and driver errors to Tributary error kinds.
//! - [`MysqlConnector`]: the typed API and the `Connector` implementation; [`MysqlFactory`] builds it.
//!
//! ```no_run
//! # async fn demo() -> tributary_core::Result<()> {
//! use serde_json::json;
//! use tributary_mysql::{MysqlConfig, MysqlConnector, config};
//!
//! let values = config::spec().validate(&json!({
//!     "host": "127.0.0.1", "database": "shop", "user": "agent", "password": "secret", "tls_mode": "disable"
//! }))?;
//! let shop = MysqlConnector::new(MysqlConfig::from_values(&values)?)?;
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

pub use config::{MysqlConfig, TlsMode};
pub use connector::{MysqlConnector, MysqlFactory};
