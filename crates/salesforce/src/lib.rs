//! Tributary's Salesforce connector, on the REST API with reqwest (rustls).
//!
//! Tokens come from the configured OAuth grant (password, client credentials, refresh token or JWT
//! bearer), are shared by concurrent calls, and are renewed once when a session expires, however many
//! callers noticed. Queries follow Salesforce's pages up to the row limit; the objects a query reads are
//! found from its `FROM` clauses (subqueries included) for the permission check; writes go through sObject
//! Collections with per-record outcomes.
//!
//! - [`config`]: the [`ConnectorSpec`](tributary_core::ConnectorSpec) and the typed [`SalesforceConfig`].
//! - [`auth`]: tokens, the grants, and the web-server flow with PKCE ([`auth::web_flow`]).
//! - `connection`: the REST session and its renew-and-retry loop.
//! - [`soql`]: escaping, name checks, a safe query builder, and the objects a query reads.
//! - `schema`: describeGlobal and describe, cached.
//! - [`operations`]: `soql_query`, `get_record`, `describe_object`, `list_objects`, `create_record`,
//!   `update_record`, `delete_record`, `upsert_record`.
//! - [`types`]: Salesforce field types to Tributary data types.
//! - `error`: Salesforce's error arrays and OAuth errors to Tributary error kinds.
//!
//! ```no_run
//! # async fn demo() -> tributary_core::Result<()> {
//! use serde_json::json;
//! use tributary_salesforce::{SalesforceConfig, SalesforceConnector, config};
//!
//! let values = config::spec().validate(&json!({
//!     "grant": "password", "client_id": "3MVG9...", "client_secret": "...",
//!     "username": "integration@acme.com", "password": "...", "security_token": "...",
//! }))?;
//! let org = SalesforceConnector::new(SalesforceConfig::from_values(&values)?)?;
//! let accounts = org.query("SELECT Id, Name FROM Account WHERE Industry = 'Energy'", Some(50)).await?;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod config;
mod connection;
mod connector;
mod error;
pub mod operations;
mod schema;
pub mod soql;
pub mod types;

pub use config::SalesforceConfig;
pub use connection::ApiUsage;
pub use connector::{SalesforceConnector, SalesforceFactory};
pub use schema::SObjectSummary;
