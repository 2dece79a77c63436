//! [`Registry`]: definitions with sealed configs, agents and grants, live connectors built once and rebuilt
//! when their definition changes, connection tests, and the governed call path behind `call_tool`.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tributary_core::host::Resolve;
use tributary_core::{ConnectorSpec, Error, HostAccess, ProtectedPaths, Result, TenantPolicy};
use tributary_mask::{MaskPolicy, Masker};

use crate::boundary::Boundary;
use crate::crypto::{KeyRing, MasterKey};
use crate::govern::audit::{Audit, AuditWriter};
use crate::govern::audit_queue::{AuditQueue, QUEUE_CAPACITY};
use crate::govern::authorize::Authorize;
use crate::govern::cache::{Cache, ResultCache};
use crate::govern::concurrency::{Concurrency, ConcurrencyLimits, Turns};
use crate::govern::layer::{Layer, Stack};
use crate::govern::limits::{CallLimits, Cap};
use crate::govern::mask::{Mask, Scrub};
use crate::govern::plan::PlanCall;
use crate::govern::rate_limit::{RateLimit, RateLimiter};
use crate::govern::retry::Execute;
use crate::model::{
    AuditQuery, AuditRecord, ConnectorDefinition, Governance, Grant, LastTest, Origin, Status,
};
use crate::store::Store;
use crate::types::ConnectorTypes;
use live::LiveConnectors;

mod agents;
mod calls;
mod connectors;
mod live;

/// A connector to create.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewConnector {
    /// Unique within the organization.
    pub name: String,
    /// The type (`postgresql`, `sqlite`, `s3`, `salesforce`).
    pub connector_type: String,
    /// The type's config, as its `ConnectorSpec` describes it.
    pub config: Value,
    /// Policy settings.
    #[serde(default)]
    pub governance: Governance,
}

/// Changes to a connector; absent fields stay as they are. In `config`, a secret given as `{"set": true}`
/// (as reads show it) or left out keeps its stored value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectorUpdate {
    /// A new name.
    pub name: Option<String>,
    /// Config fields to change.
    pub config: Option<Value>,
    /// New policy settings.
    pub governance: Option<Governance>,
    /// Enable (`connected`) or disable.
    pub status: Option<Status>,
}

/// A definition as reads show it: the config with every secret replaced by `{"set": bool}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorView {
    /// Stable id.
    pub id: String,
    /// The organization.
    pub organization: String,
    /// The name.
    pub name: String,
    /// The type.
    pub connector_type: String,
    /// Connected, error or disabled.
    pub status: Status,
    /// Who declared it: the operator (configuration file, host code) or a tenant (API, console).
    pub origin: Origin,
    /// The config, secrets redacted.
    pub config: Map<String, Value>,
    /// Policy settings.
    pub governance: Governance,
    /// Creation time.
    pub created_at: chrono::DateTime<Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<Utc>,
    /// The last connection test.
    pub last_test: Option<LastTest>,
    /// The agents granted this connector.
    pub grants: Vec<Grant>,
    /// Set by an update only: the stored secrets it removed because it changed where the connector
    /// connects (they must be entered again for the new target).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_secrets: Vec<String>,
}

/// What a host embeds. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Registry {
    store: Arc<dyn Store>,
    keys: Arc<RwLock<KeyRing>>,
    types: ConnectorTypes,
    live: LiveConnectors,
    /// Audit records on their way to the store.
    audit_queue: Arc<AuditQueue>,
    /// Every agent's tools, in memory.
    tool_tables: calls::ToolTables,
    limiter: Arc<RateLimiter>,
    cache: Arc<ResultCache>,
    masker: Arc<Masker>,
    limits: CallLimits,
    boundary: Boundary,
    token_lifetime: Option<Duration>,
    sessions: std::sync::Mutex<crate::tokens::Sessions>,
    concurrency: Arc<Concurrency>,
    /// The host's own layers, in the order they were added.
    host_layers: Vec<Arc<dyn Layer>>,
    /// The governed path, built at the first call from the settings above.
    stack: std::sync::OnceLock<Stack>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("types", &self.types)
            .field("limiter", &self.limiter)
            .field("boundary", &self.boundary)
            .finish_non_exhaustive()
    }
}

/// The identity recorded for administrative calls (connection tests).
pub const ADMIN: &str = "admin";

/// The operation audited for a call to a tool the agent does not have (the tool's name is its object).
pub const UNKNOWN_TOOL: &str = "unknown_tool";

fn new_id(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|error| Error::internal(format!("no randomness available: {error}")))?;
    Ok(format!("{prefix}_{}", hex::encode(bytes)))
}

fn not_found(what: &str, id: &str) -> Error {
    Error::not_found(format!("no {what} `{id}` in this organization"))
}

/// A validation error after an update dropped secrets: the missing secret's field says why it is missing.
fn explain_dropped(error: Error, dropped: &[String]) -> Error {
    if dropped.is_empty() {
        return error;
    }
    let note = format!(
        "the connector's target changed, so its stored {} {} removed; enter {} again",
        dropped.join(", "),
        if dropped.len() == 1 { "was" } else { "were" },
        if dropped.len() == 1 { "it" } else { "them" },
    );
    let fields = error
        .fields()
        .iter()
        .map(|field| {
            if dropped.contains(&field.field) {
                tributary_core::FieldError::new(&field.field, format!("{} ({note})", field.message))
            } else {
                field.clone()
            }
        })
        .collect();
    Error::new(error.kind(), error.message().to_owned())
        .with_hint(format!("{}; {note}", error.hint()))
        .with_fields(fields)
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        let message = format!("a connector name is 1 to {MAX_NAME} printable characters");
        return Err(Error::invalid_input(message.clone())
            .with_fields(vec![tributary_core::FieldError::new("name", message)]));
    }
    Ok(())
}

/// The longest name of a connector or an agent, in characters.
pub(crate) const MAX_NAME: usize = 100;

/// A free-text field (`name`) of at most `max` printable characters.
fn check_text(field: &str, text: &str, max: usize) -> Result<()> {
    if text.chars().count() > max || text.chars().any(char::is_control) {
        let message = format!("is at most {max} printable characters");
        return Err(Error::invalid_input(format!("the {field} {message}"))
            .with_fields(vec![tributary_core::FieldError::new(field, message)]));
    }
    Ok(())
}

impl Registry {
    /// A registry over `store`, sealing configs with `keys`, able to build the connectors of `types`.
    /// Rate limits are kept in process, PII is masked with the default policy, calls are capped at 1000
    /// rows and 1 MiB, tenants' connectors are bound by the default [`TenantPolicy`] (no host files, no
    /// loopback, link-local or private addresses, no plain text, no host identity), and the store's own
    /// files are protected from every connector; the `with_*` methods change that.
    pub fn new(store: Arc<dyn Store>, keys: KeyRing, types: ConnectorTypes) -> Result<Registry> {
        let mut protected = ProtectedPaths::new();
        for file in store.files() {
            protected.add(file);
        }
        let boundary = Boundary::new(protected)?;
        Ok(Registry {
            boundary,
            store: store.clone(),
            keys: Arc::new(RwLock::new(keys)),
            types,
            live: LiveConnectors::default(),
            tool_tables: calls::ToolTables::default(),
            audit_queue: Arc::new(AuditQueue::new(store.clone(), QUEUE_CAPACITY)),
            limiter: Arc::new(RateLimiter::local()),
            cache: Arc::new(ResultCache::default()),
            masker: Arc::new(Masker::new(MaskPolicy::default())?),
            limits: CallLimits::default(),
            token_lifetime: None,
            sessions: std::sync::Mutex::new(crate::tokens::Sessions::default()),
            concurrency: Arc::new(Concurrency::new(ConcurrencyLimits::default())),
            host_layers: Vec::new(),
            stack: std::sync::OnceLock::new(),
        })
    }

    /// Bounds the calls running at once per connector and per agent (see [`ConcurrencyLimits`]).
    #[must_use]
    pub fn with_concurrency(mut self, limits: ConcurrencyLimits) -> Registry {
        self.concurrency = Arc::new(Concurrency::new(limits));
        self.stack = std::sync::OnceLock::new();
        self
    }

    /// Adds a layer of the host's own to the governed path. Host layers run after planning, authorization
    /// and the rate limit, around the cache and execution, in the order they were added: they see every
    /// call that is allowed to run, cached answers included, and may refuse it or change its result.
    #[must_use]
    pub fn with_layer(mut self, layer: Arc<dyn Layer>) -> Registry {
        self.host_layers.push(layer);
        self.stack = std::sync::OnceLock::new();
        self
    }

    /// The governed path, outermost layer first: the one place its order is decided.
    fn stack(&self) -> &Stack {
        self.stack.get_or_init(|| {
            let mut layers: Vec<Arc<dyn Layer>> = vec![
                Arc::new(Audit {
                    writer: Arc::new(self.audit_writer()),
                }),
                Arc::new(Scrub {
                    masker: self.masker.clone(),
                }),
                Arc::new(PlanCall { limits: self.limits }),
                Arc::new(Authorize),
                Arc::new(RateLimit {
                    limiter: self.limiter.clone(),
                }),
            ];
            layers.extend(self.host_layers.iter().cloned());
            layers.extend([
                Arc::new(Cache {
                    cache: self.cache.clone(),
                }) as Arc<dyn Layer>,
                Arc::new(Turns {
                    concurrency: self.concurrency.clone(),
                }),
                Arc::new(Cap { limits: self.limits }),
                Arc::new(Mask {
                    masker: self.masker.clone(),
                }),
                Arc::new(Execute),
            ]);
            Stack::new(layers)
        })
    }

    /// The governed path's layers by name, outermost first (the host's among them).
    pub fn layers(&self) -> Vec<&'static str> {
        self.stack().names()
    }

    /// An audit writer over the registry's queue, keys and masker: the audit layer's, and the one for
    /// records written outside the stack (connection tests, unknown tools).
    fn audit_writer(&self) -> AuditWriter {
        AuditWriter {
            queue: self.audit_queue.clone(),
            keys: self.keys.clone(),
            masker: self.masker.clone(),
        }
    }

    /// Tokens issued without an explicit expiry expire after `lifetime` (`None`: never, the default).
    #[must_use]
    pub fn with_token_lifetime(mut self, lifetime: Option<Duration>) -> Registry {
        self.token_lifetime = lifetime;
        self
    }

    /// The default lifetime of new tokens.
    pub fn token_lifetime(&self) -> Option<Duration> {
        self.token_lifetime
    }

    /// The console sessions, for the registry's own modules.
    pub(crate) fn sessions(&self) -> std::sync::MutexGuard<'_, crate::tokens::Sessions> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Uses `limiter` (for example [`RateLimiter::redis`], shared by several hosts).
    #[must_use]
    pub fn with_rate_limiter(mut self, limiter: RateLimiter) -> Registry {
        self.limiter = Arc::new(limiter);
        self.stack = std::sync::OnceLock::new();
        self
    }

    /// Masks with `policy` on connectors that have `mask_pii` on.
    pub fn with_mask_policy(mut self, policy: MaskPolicy) -> Result<Registry> {
        self.masker = Arc::new(Masker::new(policy)?);
        self.stack = std::sync::OnceLock::new();
        Ok(self)
    }

    /// Caps every call at `limits`.
    #[must_use]
    pub fn with_limits(mut self, limits: CallLimits) -> Registry {
        self.limits = limits;
        self.stack = std::sync::OnceLock::new();
        self
    }

    /// Binds tenants' connectors by `policy` (the operator's `[security.tenants]`). Fails when an allowed
    /// root does not exist or a pattern is malformed.
    pub fn with_tenant_policy(mut self, policy: TenantPolicy) -> Result<Registry> {
        self.boundary = self.boundary.with_policy(policy)?;
        Ok(self)
    }

    /// Protects `paths` from every connector, whoever declared it: the host's master key file and its
    /// configuration file, say (the store's own files are protected already).
    pub fn with_protected_paths(mut self, paths: &ProtectedPaths) -> Result<Registry> {
        self.boundary = self.boundary.protecting(paths)?;
        Ok(self)
    }

    /// Resolves connectors' host names with `resolver` (the system's by default); every address it
    /// returns is still checked.
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolve>) -> Result<Registry> {
        self.boundary = self.boundary.resolving_with(resolver)?;
        Ok(self)
    }

    /// What connectors of `origin` may reach on the host, for a host's own HTTP calls on their behalf (the
    /// console's OAuth code exchange with a tenant's login host).
    pub fn host_access(&self, origin: Origin) -> &HostAccess {
        self.boundary.access(origin)
    }

    /// The store, for the registry's own modules.
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The connector types this registry can build, with their config forms.
    pub fn connector_types(&self) -> Vec<ConnectorSpec> {
        self.types.specs()
    }

    fn seal(
        &self,
        organization: &str,
        id: &str,
        values: &Map<String, Value>,
    ) -> Result<crate::crypto::Sealed> {
        let plaintext =
            zeroize::Zeroizing::new(serde_json::to_vec(values).map_err(|e| Error::internal(e.to_string()))?);
        self.keys
            .read()
            .map_err(|_| Error::internal("the key ring is poisoned"))?
            .seal(organization, id, &plaintext)
    }

    fn open(&self, definition: &ConnectorDefinition) -> Result<Map<String, Value>> {
        let plaintext = self
            .keys
            .read()
            .map_err(|_| Error::internal("the key ring is poisoned"))?
            .open(&definition.organization, &definition.id, &definition.config)?;
        serde_json::from_slice(&plaintext).map_err(|_| Error::internal("a decrypted config is not JSON"))
    }

    /// Audit records, newest first (every record of a call that has returned included).
    pub async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        self.flush_audit().await;
        self.store.audit(query).await
    }

    /// Waits until every audit record queued so far is in the store. A host calls it before it stops.
    pub async fn flush_audit(&self) {
        self.audit_queue.flush().await;
    }

    /// Re-encrypts every stored config under `key`, which becomes the current key; returns how many were
    /// re-encrypted. Configs sealed under keys this registry does not hold make the rotation fail before
    /// anything is written.
    pub async fn rotate_keys(&self, key: MasterKey) -> Result<usize> {
        let definitions = self.store.all_connectors().await?;
        let mut opened = Vec::new();
        for definition in definitions {
            let values = self.open(&definition)?;
            opened.push((definition, values));
        }
        self.keys
            .write()
            .map_err(|_| Error::internal("the key ring is poisoned"))?
            .rotate_to(key);
        let count = opened.len();
        for (mut definition, values) in opened {
            definition.config = self.seal(&definition.organization, &definition.id, &values)?;
            self.store.put_connector(&definition).await?;
            self.tool_tables.changed();
        }
        Ok(count)
    }

    /// The id of the key new configs are sealed with.
    pub fn current_key_id(&self) -> String {
        self.keys.read().map(|keys| keys.current_id()).unwrap_or_default()
    }
}
