//! The registry a host application embeds: connector definitions with encrypted credentials, agents and
//! their grants, and one governed path for every call an agent makes.
//!
//! - [`governance`]: each governance setting described once (name, schema, default, label, help), for
//!   the configuration file, the REST schema and the console's form.
//! - [`model`]: definitions (with their [`Origin`]), governance settings, agents, grants, audit records.
//! - `boundary`: the tenant boundary: the host access of each origin (the operator's
//!   [`TenantPolicy`](tributary_core::TenantPolicy) for tenants), and secrets that follow their target.
//! - [`crypto`]: XChaCha20-Poly1305 sealing bound to organization and connector, key ring and rotation.
//! - [`store`]: the [`store::Store`] trait, with SQLite (embedded default) and PostgreSQL
//!   (shared) implementations.
//! - [`types`]: the connector types the host offers, with their config forms.
//! - [`govern`]: the steps of a call: authorize, rate limit, cache, retry, audit (and masking, through
//!   `tributary-mask`), one module each.
//! - `tokens`: bearer tokens for admins (per organization) and agents, stored hashed.
//! - [`tools`]: connectors as agent tools with MCP/OpenAI-safe names and annotations.
//! - [`Registry`]: ties them together: CRUD, grants, connection tests, `tools_for_agent`, `call_tool`,
//!   key rotation.
//!
//! ```no_run
//! # async fn demo() -> tributary_core::Result<()> {
//! use std::sync::Arc;
//! use serde_json::json;
//! use tributary_core::AccessClass;
//! use tributary_registry::{ConnectorTypes, KeyRing, MasterKey, NewConnector, Origin, Registry, SqliteStore};
//!
//! let store = SqliteStore::open(std::path::Path::new("tributary.db")).await?;
//! let registry = Registry::new(Arc::new(store), KeyRing::new(MasterKey::from_env("TRIBUTARY_MASTER_KEY")?), ConnectorTypes::with_defaults())?;
//! let shop = registry
//!     .create_connector("acme", NewConnector {
//!         name: "shop".into(),
//!         connector_type: "sqlite".into(),
//!         config: json!({"path": "/var/lib/shop.db"}),
//!         governance: Default::default(),
//!     }, Origin::Operator)
//!     .await?;
//! registry.put_agent("acme", "support-bot", "Support bot").await?;
//! registry.grant("acme", "support-bot", &shop.id, [AccessClass::Read].into()).await?;
//! let result = registry.call_tool("acme", "support-bot", "shop_query", json!({"sql": "SELECT count(*) FROM orders"})).await?;
//! # Ok(()) }
//! ```

mod boundary;
pub mod crypto;
pub mod govern;
pub mod governance;
pub mod model;
mod registry;
#[allow(
    clippy::disallowed_methods,
    reason = "the registry's own store, which every connector is kept out of"
)]
pub mod store;
mod tokens;
pub mod tools;
pub mod types;

pub use crypto::{KeyRing, MasterKey};
pub use govern::concurrency::ConcurrencyLimits;
pub use govern::layer::{CallContext, CallError, CallResult, Layer, Next, Stack};
pub use govern::limits::CallLimits;
pub use govern::rate_limit::RateLimiter;
pub use model::{
    Agent, AuditQuery, AuditRecord, ConnectorDefinition, Governance, Grant, Origin, Outcome, Principal,
    Status, TokenRecord, TokenView,
};
pub use registry::{ADMIN, ConnectorUpdate, ConnectorView, NewConnector, Registry, UNKNOWN_TOOL};
pub use store::{PostgresStore, SqliteStore, Store};
pub use tokens::PREFIX as TOKEN_PREFIX;
pub use tools::{Tool, ToolAnnotations, ToolResult};
pub use types::ConnectorTypes;
