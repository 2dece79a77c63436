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
//! - [`object_store`] (feature `object-store`, or `s3`): S3 and S3-compatible stores, GCS, Azure Blob and
//!   local folders.
//! - [`salesforce`] (feature `salesforce`): Salesforce over its REST API.
//! - [`mask`] (feature `mask`): the PII masking engine applied to what connectors return.
//! - [`registry`] (feature `registry`): what a host embeds: encrypted connector definitions, grants to
//!   agents, and the governed call path.

pub use tributary_core as core;
pub use tributary_core::{Connector, ConnectorFactory, Error, ErrorKind, Result};

#[cfg(feature = "postgres")]
pub use tributary_postgres as postgres;

#[cfg(feature = "sqlite")]
pub use tributary_sqlite as sqlite;

#[cfg(feature = "mysql")]
pub use tributary_mysql as mysql;

#[cfg(feature = "object-store")]
pub use tributary_object_store as object_store;

#[cfg(feature = "salesforce")]
pub use tributary_salesforce as salesforce;

#[cfg(feature = "mask")]
pub use tributary_mask as mask;

#[cfg(feature = "registry")]
pub use tributary_registry as registry;
