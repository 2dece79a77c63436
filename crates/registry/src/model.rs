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
    /// Rows or records one call through this connector returns; `None` for the server's cap. It can only
    /// lower the server's cap (which also bounds the server's memory), never raise it.
    pub max_rows_per_call: Option<usize>,
    /// Bytes of JSON one call through this connector returns; `None` for the server's cap, which it can
    /// only lower.
    pub max_bytes_per_call: Option<usize>,
}

impl Governance {
    /// The caps of a call through this connector under the server's `limits`: the smaller of each.
    pub fn call_limits(&self, limits: crate::CallLimits) -> crate::CallLimits {
        crate::CallLimits {
            max_rows: self
                .max_rows_per_call
                .map_or(limits.max_rows, |rows| rows.clamp(1, limits.max_rows)),
            max_bytes: self
                .max_bytes_per_call
                .map_or(limits.max_bytes, |bytes| bytes.clamp(1, limits.max_bytes)),
        }
    }
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
            max_rows_per_call: None,
            max_bytes_per_call: None,
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
    /// Its internal identity (`agt_…`), never reused: grants and tokens are bound to it, so an agent
    /// deleted and created again under the same id starts with nothing of the old one's.
    pub uid: String,
    /// Its id (`support-bot`), unique within its organization; another organization may use the same.
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
    /// An agent of one organization (the MCP endpoint).
    Agent {
        /// The agent's organization.
        organization: String,
        /// The agent's id within it.
        agent: String,
    },
}

impl Principal {
    /// The organization it belongs to.
    pub fn organization(&self) -> &str {
        match self {
            Principal::Admin { organization } | Principal::Agent { organization, .. } => organization,
        }
    }

    /// `admin` or `agent`, as token lists show it.
    pub fn kind(&self) -> &'static str {
        match self {
            Principal::Admin { .. } => "admin",
            Principal::Agent { .. } => "agent",
        }
    }
}

/// A stored token: only its SHA-256 hash is kept, as the key, never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Its public id (`tok_…`), to list and revoke it by; it lets no one in.
    pub id: String,
    /// Who it speaks for.
    pub principal: Principal,
    /// For an agent token, the agent's internal identity: the token dies with that agent, and does not
    /// come back with a new agent of the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_uid: Option<String>,
    /// A name to tell tokens apart (`ci`, `console`, `laptop`).
    #[serde(alias = "label")]
    pub name: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it last authenticated (recorded at most once a minute); `None` if never.
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working; `None` for never.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token as lists show it: what it is for and when it was used, never the token or its hash. The field
/// names are fixed (`GET /api/v1/tokens`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    /// Its id, for `DELETE /api/v1/tokens/{id}` and `tributary tokens revoke ID`.
    pub id: String,
    /// `admin` or `agent`.
    pub kind: String,
    /// The organization it belongs to.
    pub organization: String,
    /// The agent's id, for an agent token.
    pub agent: Option<String>,
    /// Its name.
    pub name: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it expires; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<&TokenRecord> for TokenView {
    fn from(record: &TokenRecord) -> TokenView {
        TokenView {
            id: record.id.clone(),
            kind: record.principal.kind().to_owned(),
            organization: record.principal.organization().to_owned(),
            agent: match &record.principal {
                Principal::Agent { agent, .. } => Some(agent.clone()),
                Principal::Admin { .. } => None,
            },
            name: record.name.clone(),
            created_at: record.created_at,
            last_used_at: record.last_used_at,
            expires_at: record.expires_at,
        }
    }
}
