//! Tributary: governed connectors for Rust services and AI agents.
//!
//! This facade re-exports the Tributary crates, each behind a feature, as `sqlx` does for its drivers:
//! depend on `tributary` with the features you need, or on a single connector crate directly.
//!
//! - [`core`] (always): the [`Connector`] contract, its types, config specs, errors and
//!   access policies.
//! - [`postgres`] (feature `postgres`): the PostgreSQL connector.
//! - [`mysql`] (feature `mysql`): the MySQL and MariaDB connector.
//! - [`sqlite`] (feature `sqlite`): the SQLite connector, the embedded default.

pub use tributary_core as core;
pub use tributary_core::{Connector, ConnectorFactory, Error, ErrorKind, Result};

#[cfg(feature = "postgres")]
pub use tributary_postgres as postgres;

#[cfg(feature = "sqlite")]
pub use tributary_sqlite as sqlite;

#[cfg(feature = "mysql")]
pub use tributary_mysql as mysql;
