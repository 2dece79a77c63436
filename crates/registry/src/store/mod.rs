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
    /// Inserts or replaces an agent (by `uid`). An id its organization already gives another agent is a
    /// conflict.
    async fn put_agent(&self, agent: &Agent) -> Result<()>;
    /// One agent by its internal identity.
    async fn agent(&self, uid: &str) -> Result<Option<Agent>>;
    /// One agent of an organization by id.
    async fn agent_named(&self, organization: &str, id: &str) -> Result<Option<Agent>>;
    /// The agents of an organization, by id.
    async fn agents(&self, organization: &str) -> Result<Vec<Agent>>;
    /// Every organization's agent with this id (for the operator's commands), by organization.
    async fn agents_named(&self, id: &str) -> Result<Vec<Agent>>;
    /// Deletes an agent with its grants and tokens, in one transaction; whether it existed.
    async fn delete_agent(&self, uid: &str) -> Result<bool>;
    /// Inserts or replaces the grant of one agent (by internal identity) on one connector.
    async fn put_grant(&self, agent_uid: &str, grant: &Grant) -> Result<()>;
    /// Removes a grant; whether it existed.
    async fn delete_grant(&self, agent_uid: &str, connector: &str) -> Result<bool>;
    /// The grants of an agent (by internal identity).
    async fn grants_of_agent(&self, agent_uid: &str) -> Result<Vec<Grant>>;
    /// The grants on a connector.
    async fn grants_on_connector(&self, connector: &str) -> Result<Vec<Grant>>;
    /// Stores a token record under the hash of its token.
    async fn put_token(&self, hash: &str, token: &TokenRecord) -> Result<()>;
    /// The token record stored under `hash`.
    async fn token(&self, hash: &str) -> Result<Option<TokenRecord>>;
    /// The token record with this id.
    async fn token_by_id(&self, id: &str) -> Result<Option<TokenRecord>>;
    /// The tokens of one organization, or of all, oldest first.
    async fn tokens(&self, organization: Option<&str>) -> Result<Vec<TokenRecord>>;
    /// Records when a token was last used.
    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<()>;
    /// Removes a token by the hash of its value; whether it existed.
    async fn delete_token(&self, hash: &str) -> Result<bool>;
    /// Removes a token by id; whether it existed.
    async fn delete_token_by_id(&self, id: &str) -> Result<bool>;
    /// Appends an audit record.
    async fn append_audit(&self, record: &AuditRecord) -> Result<()>;
    /// Appends several audit records, in order, in one transaction where the store has them (the audit
    /// queue's group commit). All are written or none.
    async fn append_audits(&self, records: &[AuditRecord]) -> Result<()> {
        for record in records {
            self.append_audit(record).await?;
        }
        Ok(())
    }
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
    // Agents get an internal identity (an existing agent's id was unique across organizations, so it
    // becomes its uid, and its grants, keyed by it, stay); ids become unique per organization. Tokens get
    // an id and their organization and agent as columns. Agent tokens issued before could not be bound to
    // an agent's identity, so they are removed: issue new ones.
    (
        "CREATE TABLE agents_v3 (uid TEXT PRIMARY KEY, organization TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (organization, id));
         INSERT INTO agents_v3 (uid, organization, id, body) SELECT id, organization, id, json_set(body, '$.uid', id) FROM agents;
         DROP TABLE agents;
         ALTER TABLE agents_v3 RENAME TO agents;
         DELETE FROM tokens WHERE json_extract(body, '$.principal.kind') <> 'admin';
         ALTER TABLE tokens ADD COLUMN id TEXT;
         ALTER TABLE tokens ADD COLUMN organization TEXT NOT NULL DEFAULT '';
         ALTER TABLE tokens ADD COLUMN agent TEXT;
         UPDATE tokens SET id = 'tok_' || substr(hash, 1, 16), organization = json_extract(body, '$.principal.organization');
         UPDATE tokens SET body = json_set(body, '$.id', id);
         CREATE UNIQUE INDEX tokens_by_id ON tokens (id);
         CREATE INDEX tokens_by_organization ON tokens (organization);
         CREATE INDEX tokens_by_agent ON tokens (agent);",
        "CREATE TABLE agents_v3 (uid TEXT PRIMARY KEY, organization TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (organization, id));
         INSERT INTO agents_v3 (uid, organization, id, body) SELECT id, organization, id, (body::jsonb || jsonb_build_object('uid', id))::text FROM agents;
         DROP TABLE agents;
         ALTER TABLE agents_v3 RENAME TO agents;
         DELETE FROM tokens WHERE body::jsonb #>> '{principal,kind}' <> 'admin';
         ALTER TABLE tokens ADD COLUMN id TEXT, ADD COLUMN organization TEXT NOT NULL DEFAULT '', ADD COLUMN agent TEXT;
         UPDATE tokens SET id = 'tok_' || substr(hash, 1, 16), organization = COALESCE(body::jsonb #>> '{principal,organization}', '');
         UPDATE tokens SET body = (body::jsonb || jsonb_build_object('id', id))::text;
         CREATE UNIQUE INDEX tokens_by_id ON tokens (id);
         CREATE INDEX tokens_by_organization ON tokens (organization);
         CREATE INDEX tokens_by_agent ON tokens (agent);",
    ),
];

/// The error for an agent id its organization already uses.
pub(crate) fn duplicate_agent(agent: &Agent) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!("this organization already has an agent `{}`", agent.id),
    )
    .with_fields(vec![tributary_core::FieldError::new(
        "id",
        "is taken by another agent of this organization",
    )])
}

/// A timestamp as stored records spell it (the same as their JSON).
pub(crate) fn timestamp(at: chrono::DateTime<chrono::Utc>) -> Result<String> {
    match serde_json::to_value(at) {
        Ok(serde_json::Value::String(text)) => Ok(text),
        _ => Err(Error::internal("a timestamp could not be encoded")),
    }
}

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
