//! Tributary's object-store connector: Amazon S3 and S3-compatible stores (MinIO, Ceph, R2), Google Cloud
//! Storage, Azure Blob Storage and local folders, on the `object_store` crate.
//!
//! One connector serves one bucket (or container, or folder). Keys are normalized before any check, so
//! `..`, `//` and encoded tricks cannot reach outside an allowed prefix; reads are capped in bytes and say
//! when they were cut; large bodies go up as multipart uploads; presigned URLs let a client move bytes
//! without credentials. Only the configured credentials are used: ambient cloud credentials only when the
//! configuration asks for them.
//!
//! - [`config`]: the [`ConnectorSpec`](tributary_core::ConnectorSpec) and the typed [`ObjectStoreConfig`].
//! - `connection`: one object_store client per provider, with timeouts and retries.
//! - [`key`]: [`ObjectKey`] and [`KeyPrefix`], normalized once from untrusted input.
//! - `schema`: discovery of the bucket and its top-level prefixes.
//! - [`operations`]: `list`, `head`, `get`, `presign_get`, `put`, `delete`, `copy`, `presign_put`.
//! - [`types`]: what the operations return, and object bytes as text or base64.
//! - `error`: object_store errors to Tributary error kinds.
//! - [`ObjectStoreConnector`]: the typed API and the `Connector` implementation; [`ObjectStoreFactory`]
//!   builds it.
//!
//! Policies name objects `bucket` (the whole bucket, for listing it), `bucket/prefix` (listing a prefix)
//! and `bucket/key` (one object), so `allowed_objects = ["reports/2026/*"]`-style rules are written
//! `company-reports/reports/2026/*`.
//!
//! ```no_run
//! # async fn demo() -> tributary_core::Result<()> {
//! use serde_json::json;
//! use tributary_object_store::{ObjectStoreConfig, ObjectStoreConnector, config, types::ByteRange};
//!
//! let values = config::spec().validate(&json!({
//!     "provider": "s3",
//!     "bucket": "company-reports",
//!     "region": "eu-west-1",
//!     "access_key_id": "AKIA...",
//!     "secret_access_key": "...",
//! }))?;
//! let reports = ObjectStoreConnector::new(ObjectStoreConfig::from_values(&values)?)?;
//! let csv = reports.get("reports/2026/q1.csv", ByteRange::whole()).await?;
//! println!("{} of {} bytes", csv.bytes.len(), csv.metadata.size);
//! # Ok(()) }
//! ```

pub mod config;
mod connection;
mod connector;
mod error;
pub mod key;
pub mod operations;
mod schema;
pub mod types;

pub use config::ObjectStoreConfig;
pub use connector::{ObjectStoreConnector, ObjectStoreFactory};
pub use key::{KeyPrefix, ObjectKey};
pub use operations::read::ListRequest;
