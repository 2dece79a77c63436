//! Where definitions, agents, grants and audit records live: the [`Store`] trait and its two
//! implementations, [`SqliteStore`] (the embedded default: one file, created on first use) and
//! [`PostgresStore`] (shared by several host instances). Both pass one shared test suite.
//!
//! Both keep each record as JSON next to the columns they are looked up by, and run the same versioned
//! migrations on open (`tributary_migrations`), in their own dialect.

mod postgres;
mod sqlite;

use async_trait::async_trait;
use tributary_core::{Error, ErrorKind, Result};

use crate::model::{Agent, AuditQuery, AuditRecord, ConnectorDefinition, Grant, TokenRecord};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// The registry's persistence.
#[async_trait]
pub trait Store: Send + Sync {
    /// The files the store keeps on this host (none for a server store). The registry protects them: no
    /// connector may open them, whoever declared it.
    fn files(&self) -> Vec<std::path::PathBuf> {
        Vec::new()
    }
    /// Inserts or replaces a definition (by id). A second connector with the same name in an
    /// organization is a conflict.
    async fn put_connector(&self, definition: &ConnectorDefinition) -> Result<()>;
    /// One definition by id.
    async fn connector(&self, id: &str) -> Result<Option<ConnectorDefinition>>;
    /// The definitions of an organization, by name.
    async fn connectors(&self, organization: &str) -> Result<Vec<ConnectorDefinition>>;
    /// Every definition, for key rotation.
    async fn all_connectors(&self) -> Result<Vec<ConnectorDefinition>>;
    /// Deletes a definition and its grants; whether it existed.
    async fn delete_connector(&self, id: &str) -> Result<bool>;
    /// Inserts or replaces an agent.
    async fn put_agent(&self, agent: &Agent) -> Result<()>;
    /// One agent by id.
    async fn agent(&self, id: &str) -> Result<Option<Agent>>;
    /// The agents of an organization.
    async fn agents(&self, organization: &str) -> Result<Vec<Agent>>;
    /// Deletes an agent (its grants must be removed first); whether it existed.
    async fn delete_agent(&self, id: &str) -> Result<()>;
    /// Inserts or replaces the grant of one agent on one connector.
    async fn put_grant(&self, grant: &Grant) -> Result<()>;
    /// Removes a grant; whether it existed.
    async fn delete_grant(&self, agent: &str, connector: &str) -> Result<bool>;
    /// The grants of an agent.
    async fn grants_of_agent(&self, agent: &str) -> Result<Vec<Grant>>;
    /// The grants on a connector.
    async fn grants_on_connector(&self, connector: &str) -> Result<Vec<Grant>>;
    /// Stores a token record under the hash of its token.
    async fn put_token(&self, hash: &str, token: &TokenRecord) -> Result<()>;
    /// The token record stored under `hash`.
    async fn token(&self, hash: &str) -> Result<Option<TokenRecord>>;
    /// Removes a token; whether it existed.
    async fn delete_token(&self, hash: &str) -> Result<bool>;
    /// Appends an audit record.
    async fn append_audit(&self, record: &AuditRecord) -> Result<()>;
    /// Audit records, newest first.
    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>>;
}

/// The schema, one entry per version, as `(sqlite, postgresql)` statements.
pub(crate) const MIGRATIONS: &[(&str, &str)] = &[
    (
    "CREATE TABLE connectors (id TEXT PRIMARY KEY, organization TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (organization, name));
     CREATE TABLE agents (id TEXT PRIMARY KEY, organization TEXT NOT NULL, body TEXT NOT NULL);
     CREATE TABLE grants (agent TEXT NOT NULL, connector TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (agent, connector));
     CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, organization TEXT NOT NULL, agent TEXT NOT NULL, connector TEXT NOT NULL, body TEXT NOT NULL);
     CREATE INDEX audit_by_org ON audit (organization, at);",
    "CREATE TABLE connectors (id TEXT PRIMARY KEY, organization TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (organization, name));
     CREATE TABLE agents (id TEXT PRIMARY KEY, organization TEXT NOT NULL, body TEXT NOT NULL);
     CREATE TABLE grants (agent TEXT NOT NULL, connector TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (agent, connector));
     CREATE TABLE audit (seq BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, organization TEXT NOT NULL, agent TEXT NOT NULL, connector TEXT NOT NULL, body TEXT NOT NULL);
     CREATE INDEX audit_by_org ON audit (organization, at);",
    ),
    (
        "CREATE TABLE tokens (hash TEXT PRIMARY KEY, body TEXT NOT NULL);",
        "CREATE TABLE tokens (hash TEXT PRIMARY KEY, body TEXT NOT NULL);",
    ),
];

/// A record to JSON for storage.
pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|error| Error::internal(format!("could not encode a stored record: {error}")))
}

/// A stored record from JSON.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|error| Error::internal(format!("a stored record is unreadable: {error}")))
}

/// The error for a name already taken.
pub(crate) fn duplicate_name(definition: &ConnectorDefinition) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!(
            "organization `{}` already has a connector named `{}`",
            definition.organization, definition.name
        ),
    )
    .with_hint("choose another name, or update the existing connector")
    .with_fields(vec![tributary_core::FieldError::new(
        "name",
        "is taken by another connector of this organization",
    )])
}

/// The most audit records one query returns.
pub(crate) fn audit_limit(query: &AuditQuery) -> i64 {
    i64::from(query.limit.unwrap_or(100).min(10_000))
}

/// How many audit records to skip.
pub(crate) fn audit_offset(query: &AuditQuery) -> i64 {
    i64::from(query.offset.unwrap_or(0))
}
