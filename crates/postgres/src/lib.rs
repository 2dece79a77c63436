//! Tributary's PostgreSQL connector.
//!
//! Read-only SQL that cannot be escaped, structured writes, and schema discovery, on tokio-postgres with a
//! deadpool pool and rustls.
//!
//! - [`config`]: the [`ConnectorSpec`](tributary_core::ConnectorSpec) and the typed [`PostgresConfig`].
//! - `connection`: the pool, TLS and the session settings applied at connection start.
//! - `schema`: discovery from `pg_catalog`.
//! - `operations`: `query`, `list_objects`, `describe_object`, `insert`, `update`, `delete`.
//! - [`types`]: PostgreSQL values to JSON (lossless numerics, infinities, arrays) and JSON to parameters.
//! - `error`: driver and pool errors to Tributary error kinds.
//! - [`PostgresConnector`]: the typed API and the `Connector` implementation; [`PostgresFactory`] builds it.
//!
//! ```no_run
//! # async fn demo() -> tributary_core::Result<()> {
//! use serde_json::json;
//! use tributary_core::ConnectorSpec;
//! use tributary_postgres::{PostgresConfig, PostgresConnector, config};
//!
//! let values = config::spec().validate(&json!({
//!     "host": "127.0.0.1", "database": "shop", "user": "agent", "password": "secret", "tls_mode": "disable"
//! }))?;
//! let shop = PostgresConnector::new(PostgresConfig::from_values(&values)?)?;
//! let orders = shop.query("SELECT id, total FROM orders WHERE status = $1", vec![json!("open")], Some(50)).await?;
//! # Ok(()) }
//! ```

pub mod config;
mod connection;
mod connector;
mod error;
mod framing;
mod operations;
mod schema;
mod tls;
pub mod types;

pub use config::{PostgresConfig, TlsMode};
pub use connector::{PostgresConnector, PostgresFactory};
