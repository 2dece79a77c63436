//! What the registry stores: connector definitions, agents, grants and audit records.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tributary_core::{AccessClass, CheckReport, ObjectRules};

use crate::crypto::Sealed;

/// Whether a connector can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The last test connected (or it was never tested).
    Connected,
    /// The last test failed.
    Error,
    /// An administrator turned it off: every call is refused.
    Disabled,
}

/// Who declared a connector, which decides what it may reach on the host (see the crate's `boundary`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The operator: the configuration file, the host's own code, the embedded demo. Bound only by the
    /// protected paths.
    Operator,
    /// An organization's admin, through the REST API or the console: bound by the operator's tenant
    /// policy. Definitions stored before origins were recorded count as tenants'.
    #[default]
    Tenant,
}

impl Origin {
    /// The name stored and shown (`operator`, `tenant`).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Operator => "operator",
            Origin::Tenant => "tenant",
        }
    }
}

/// The governance settings of a connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Governance {
    /// Classes of operation any agent may be granted.
    pub allowed_operations: BTreeSet<AccessClass>,
    /// Objects calls may touch; `null` for all.
    pub allowed_objects: ObjectRules,
    /// Mask PII in results.
    pub mask_pii: bool,
    /// Record every call in the audit log.
    pub audit_queries: bool,
    /// Seconds read results are cached; 0 for no cache.
    pub cache_ttl_seconds: u64,
    /// Calls per minute across all agents; `None` for no limit.
    pub queries_per_minute: Option<u32>,
}

impl Outcome {
    /// The name stored and shown (`ok`, `denied`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

impl Default for Governance {
    fn default() -> Self {
        Governance {
            allowed_operations: [AccessClass::Read].into_iter().collect(),
            allowed_objects: ObjectRules::Any,
            mask_pii: true,
            audit_queries: true,
            cache_ttl_seconds: 0,
            queries_per_minute: None,
        }
    }
}

/// The last connection test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastTest {
    /// When it ran.
    pub at: DateTime<Utc>,
    /// What it found.
    pub report: CheckReport,
}

/// A stored connector definition. The config stays sealed; reads of a definition show secret fields only
/// as set or unset (see [`crate::Registry::connector`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorDefinition {
    /// Stable id (`con_…`).
    pub id: String,
    /// The owning organization.
    pub organization: String,
    /// Unique within the organization.
    pub name: String,
    /// The connector type (`postgresql`, `s3`).
    pub connector_type: String,
    /// Connected, error or disabled.
    pub status: Status,
    /// Who declared it: the operator or a tenant.
    #[serde(default)]
    pub origin: Origin,
    /// The encrypted config.
    pub config: Sealed,
    /// Policy settings.
    pub governance: Governance,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed; live connectors are rebuilt when it moves.
    pub updated_at: DateTime<Utc>,
    /// The last connection test.
    pub last_test: Option<LastTest>,
}

/// An agent: an identity that calls tools, inside one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// Its id (`support-bot`).
    pub id: String,
    /// Its organization.
    pub organization: String,
    /// A display name.
    pub name: String,
}

/// Which operations an agent may use on one connector (a subset of the connector's allowed operations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The agent.
    pub agent: String,
    /// The connector id.
    pub connector: String,
    /// The classes granted.
    pub operations: BTreeSet<AccessClass>,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It ran and returned.
    Ok,
    /// Governance refused it (permission or rate limit).
    Denied,
    /// It ran and failed.
    Failed,
}

/// One audited call. Holds no secret and no unmasked value: the statement is a fingerprint (a hash of its
/// normalized text), never the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the call started.
    pub at: DateTime<Utc>,
    /// The organization.
    pub organization: String,
    /// The agent (or `admin` for administrative calls).
    pub agent: String,
    /// The connector id.
    pub connector: String,
    /// The operation.
    pub operation: String,
    /// The objects the call touched, as the plan resolved them.
    pub objects: Vec<String>,
    /// SHA-256 prefix of the normalized parameters.
    pub fingerprint: String,
    /// Rows or records returned or affected.
    pub rows: u64,
    /// Bytes of the JSON result.
    pub bytes: u64,
    /// Milliseconds.
    pub duration_ms: u64,
    /// Ok, denied or failed.
    pub outcome: Outcome,
    /// The error kind when not ok.
    pub error_kind: Option<String>,
    /// Whether the answer came from the cache.
    pub cached: bool,
    /// Values masked, per entity.
    pub masked: Value,
}

/// Which audit records to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// The organization (required).
    pub organization: String,
    /// Only this connector.
    pub connector: Option<String>,
    /// Only this agent.
    pub agent: Option<String>,
    /// Only records at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only records before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only calls that ended this way.
    pub outcome: Option<Outcome>,
    /// At most this many, newest first (default 100).
    pub limit: Option<u32>,
    /// Skip this many (paging).
    pub offset: Option<u32>,
}

/// Who a bearer token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    /// An administrator of one organization (the REST admin API and the console).
    Admin {
        /// The organization it administers.
        organization: String,
    },
    /// An agent (the MCP endpoint).
    Agent {
        /// The agent's id.
        agent: String,
    },
}

/// A stored token: only its SHA-256 hash is kept, as the key, never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Who it speaks for.
    pub principal: Principal,
    /// A label to tell tokens apart.
    pub label: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
}
