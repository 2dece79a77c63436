//! [`Registry`]: definitions with sealed configs, agents and grants, live connectors built once and rebuilt
//! when their definition changes, connection tests, and the governed call path behind `call_tool`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use tributary_core::host::Resolve;
use tributary_core::{
    AccessClass, CheckReport, CheckStatus, Connector, ConnectorSpec, Error, HostAccess, OperationRequest,
    ProtectedPaths, Result, TenantPolicy,
};
use tributary_mask::{MaskPolicy, MaskReport, Masker};

use crate::boundary::{self, Boundary};
use crate::crypto::{KeyRing, MasterKey};
use crate::govern::audit::{self, Audit, AuditWriter};
use crate::govern::authorize::Authorize;
use crate::govern::cache::{Cache, ResultCache};
use crate::govern::concurrency::{Concurrency, ConcurrencyLimits, Turns};
use crate::govern::layer::{CallContext, Layer, Stack};
use crate::govern::limits::{CallLimits, Cap};
use crate::govern::mask::{Mask, Scrub};
use crate::govern::plan::PlanCall;
use crate::govern::rate_limit::{RateLimit, RateLimiter};
use crate::govern::retry::Execute;
use crate::model::{
    Agent, AuditQuery, AuditRecord, ConnectorDefinition, Governance, Grant, LastTest, Origin, Outcome, Status,
};
use crate::store::Store;
use crate::tools::{self, Tool, ToolResult};
use crate::types::ConnectorTypes;

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

struct Live {
    version: chrono::DateTime<Utc>,
    connector: Arc<dyn Connector>,
    secrets: Vec<String>,
}

/// What a host embeds. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Registry {
    store: Arc<dyn Store>,
    keys: Arc<RwLock<KeyRing>>,
    types: ConnectorTypes,
    live: Mutex<HashMap<String, Arc<Live>>>,
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
            store,
            keys: Arc::new(RwLock::new(keys)),
            types,
            live: Mutex::new(HashMap::new()),
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
            let writer = Arc::new(AuditWriter {
                store: self.store.clone(),
                keys: self.keys.clone(),
                masker: self.masker.clone(),
            });
            let mut layers: Vec<Arc<dyn Layer>> = vec![
                Arc::new(Audit { writer }),
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

    /// The audit writer, for records written outside the stack (connection tests, unknown tools).
    fn audit_writer(&self) -> AuditWriter {
        AuditWriter {
            store: self.store.clone(),
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

    fn spec(&self, connector_type: &str) -> Result<ConnectorSpec> {
        Ok(self.types.factory(connector_type)?.spec())
    }

    /// Validates a config against its type's form, then builds a connector from it under `origin`'s host
    /// access (without contacting anything or creating anything), so the type's own cross-field checks and
    /// the host policy run at save time rather than at first use.
    async fn validate(
        &self,
        connector_type: &str,
        config: &Value,
        origin: Origin,
    ) -> Result<tributary_core::ConfigValues> {
        let (factory, values, secrets) = self.validated(connector_type, config)?;
        let host = self.boundary.access(origin).without_side_effects();
        factory
            .build(values.clone(), &host)
            .await
            .map_err(|error| error.redact(&secrets))?;
        Ok(values)
    }

    /// A config checked against its type's form, with the type's factory and the config's secret values
    /// (taken from the raw config, so even a validation error is scrubbed of them).
    fn validated(
        &self,
        connector_type: &str,
        config: &Value,
    ) -> Result<(
        &Arc<dyn tributary_core::ConnectorFactory>,
        tributary_core::ConfigValues,
        Vec<String>,
    )> {
        let factory = self.types.factory(connector_type)?;
        let spec = factory.spec();
        let secrets: Vec<String> = config
            .as_object()
            .map(|raw| spec.secret_values(raw).into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        let values = spec.validate(config).map_err(|error| error.redact(&secrets))?;
        Ok((factory, values, secrets))
    }

    fn check_governance(governance: &Governance) -> Result<()> {
        if governance.allowed_operations.is_empty() {
            return Err(Error::invalid_input(
                "allow at least one class of operation (read or write)",
            ));
        }
        Ok(())
    }

    /// Creates a connector declared by `origin`: validates its config against its type's form and the
    /// origin's host access, seals it, stores it. The REST API and the console create as
    /// [`Origin::Tenant`]; a configuration file or the host's own code as [`Origin::Operator`].
    pub async fn create_connector(
        &self,
        organization: &str,
        new: NewConnector,
        origin: Origin,
    ) -> Result<ConnectorView> {
        check_name(&new.name)?;
        Registry::check_governance(&new.governance)?;
        let values = self.validate(&new.connector_type, &new.config, origin).await?;
        let id = new_id("con")?;
        let now = Utc::now();
        let definition = ConnectorDefinition {
            config: self.seal(organization, &id, values.expose())?,
            id,
            organization: organization.to_owned(),
            name: new.name,
            connector_type: new.connector_type,
            status: Status::Connected,
            origin,
            governance: new.governance,
            created_at: now,
            updated_at: now,
            last_test: None,
        };
        self.store.put_connector(&definition).await?;
        self.view(definition).await
    }

    async fn definition(&self, organization: &str, id: &str) -> Result<ConnectorDefinition> {
        self.store
            .connector(id)
            .await?
            .filter(|definition| definition.organization == organization)
            .ok_or_else(|| not_found("connector", id))
    }

    /// A connector by name, for hosts that address connectors by their names.
    pub async fn connector_id(&self, organization: &str, name: &str) -> Result<String> {
        self.store
            .connectors(organization)
            .await?
            .into_iter()
            .find(|definition| definition.name == name)
            .map(|definition| definition.id)
            .ok_or_else(|| not_found("connector named", name))
    }

    async fn view(&self, definition: ConnectorDefinition) -> Result<ConnectorView> {
        let config = self
            .spec(&definition.connector_type)?
            .redact(&self.open(&definition)?);
        let grants = self.store.grants_on_connector(&definition.id).await?;
        Ok(ConnectorView {
            id: definition.id,
            organization: definition.organization,
            name: definition.name,
            connector_type: definition.connector_type,
            status: definition.status,
            origin: definition.origin,
            config,
            governance: definition.governance,
            created_at: definition.created_at,
            updated_at: definition.updated_at,
            last_test: definition.last_test,
            grants,
            dropped_secrets: Vec::new(),
        })
    }

    /// One connector, secrets shown as set or unset.
    pub async fn connector(&self, organization: &str, id: &str) -> Result<ConnectorView> {
        self.view(self.definition(organization, id).await?).await
    }

    /// The organization's connectors.
    pub async fn connectors(&self, organization: &str) -> Result<Vec<ConnectorView>> {
        let mut views = Vec::new();
        for definition in self.store.connectors(organization).await? {
            views.push(self.view(definition).await?);
        }
        Ok(views)
    }

    /// Every connector of every organization, for the host's own tools (the CLI holds the master key and
    /// so already sees everything).
    pub async fn all_connectors(&self) -> Result<Vec<ConnectorView>> {
        let mut views = Vec::new();
        for definition in self.store.all_connectors().await? {
            views.push(self.view(definition).await?);
        }
        Ok(views)
    }

    /// Changes a connector on behalf of `origin`. Its live connection is rebuilt on next use.
    ///
    /// - A tenant cannot rename or reconfigure a connector the operator declared: its settings live in the
    ///   configuration file. An operator's update makes the connector the operator's.
    /// - Secrets follow their target: a change of where the connector connects or how it verifies the peer
    ///   drops every stored secret the update does not send again; the view's `dropped_secrets` names them.
    pub async fn update_connector(
        &self,
        organization: &str,
        id: &str,
        update: ConnectorUpdate,
        origin: Origin,
    ) -> Result<ConnectorView> {
        let mut definition = self.definition(organization, id).await?;
        if origin == Origin::Tenant
            && definition.origin == Origin::Operator
            && (update.name.is_some() || update.config.is_some())
        {
            return Err(Error::permission_denied(format!(
                "connector `{}` is declared by the server's operator; its name and settings are changed in the configuration file",
                definition.name
            ))
            .with_hint("ask the operator to change it, or create a connector of your own"));
        }
        if origin == Origin::Operator {
            definition.origin = Origin::Operator;
        }
        if let Some(name) = update.name {
            check_name(&name)?;
            definition.name = name;
        }
        let mut dropped_secrets = Vec::new();
        if let Some(changes) = update.config {
            let Value::Object(changes) = changes else {
                return Err(Error::invalid_input("config must be an object of fields"));
            };
            let before = self.open(&definition)?;
            let mut merged = before.clone();
            for (field, value) in &changes {
                let keeps_secret = value.as_object().is_some_and(|object| object.contains_key("set"));
                if !keeps_secret {
                    merged.insert(field.clone(), value.clone());
                }
            }
            let spec = self.spec(&definition.connector_type)?;
            // Compare the targets as the form reads them (defaults, "5432" as 5432); a config that does not
            // validate fails below with its own field errors.
            if let Ok((_, after, _)) =
                self.validated(&definition.connector_type, &Value::Object(merged.clone()))
            {
                dropped_secrets =
                    boundary::drop_moved_secrets(&spec, &before, after.expose(), &changes, &mut merged);
            }
            let values = self
                .validate(
                    &definition.connector_type,
                    &Value::Object(merged),
                    definition.origin,
                )
                .await
                .map_err(|error| explain_dropped(error, &dropped_secrets))?;
            definition.config = self.seal(organization, id, values.expose())?;
        }
        if let Some(governance) = update.governance {
            Registry::check_governance(&governance)?;
            definition.governance = governance;
        }
        if let Some(status) = update.status {
            definition.status = status;
        }
        definition.updated_at = Utc::now();
        self.store.put_connector(&definition).await?;
        self.cache.invalidate(id);
        let mut view = self.view(definition).await?;
        view.dropped_secrets = dropped_secrets;
        Ok(view)
    }

    /// Deletes a connector and its grants.
    pub async fn delete_connector(&self, organization: &str, id: &str) -> Result<()> {
        self.definition(organization, id).await?;
        self.store.delete_connector(id).await?;
        self.live.lock().await.remove(id);
        self.cache.invalidate(id);
        Ok(())
    }

    /// Creates an agent, or renames the organization's agent with this id. Ids are unique per
    /// organization only: another organization's agent of the same id is neither seen nor touched.
    pub async fn put_agent(&self, organization: &str, id: &str, name: &str) -> Result<Agent> {
        if !tools::valid_name(id) {
            return Err(
                Error::invalid_input("an agent id is 1 to 64 letters, digits, `_` or `-`").with_fields(vec![
                    tributary_core::FieldError::new("id", "is 1 to 64 letters, digits, `_` or `-`"),
                ]),
            );
        }
        check_text("name", name, MAX_NAME)?;
        let agent = match self.store.agent_named(organization, id).await? {
            Some(existing) => Agent {
                name: name.to_owned(),
                ..existing
            },
            None => Agent {
                uid: new_id("agt")?,
                id: id.to_owned(),
                organization: organization.to_owned(),
                name: name.to_owned(),
            },
        };
        self.store.put_agent(&agent).await?;
        Ok(agent)
    }

    /// The organization's agents.
    pub async fn agents(&self, organization: &str) -> Result<Vec<Agent>> {
        self.store.agents(organization).await
    }

    /// Every organization's agent with this id, for the operator's commands (`tributary mcp --agent`).
    pub async fn agents_named(&self, id: &str) -> Result<Vec<Agent>> {
        self.store.agents_named(id).await
    }

    /// The grants of an agent of the organization.
    pub async fn grants_of_agent(&self, organization: &str, agent: &str) -> Result<Vec<Grant>> {
        let agent = self.agent(organization, agent).await?;
        self.store.grants_of_agent(&agent.uid).await
    }

    /// Deletes an agent with its grants and its tokens: none of them comes back with a new agent of the
    /// same id.
    pub async fn delete_agent(&self, organization: &str, agent: &str) -> Result<()> {
        let agent = self.agent(organization, agent).await?;
        self.store.delete_agent(&agent.uid).await?;
        Ok(())
    }

    /// Discovers a connector's objects (the schema browser).
    pub async fn schema(&self, organization: &str, id: &str) -> Result<tributary_core::Catalog> {
        let definition = self.definition(organization, id).await?;
        let live = self.live(&definition).await?;
        live.connector
            .discover()
            .await
            .map_err(|error| error.redact(&live.secrets))
    }

    /// One object's description (the schema browser's detail).
    pub async fn describe(
        &self,
        organization: &str,
        id: &str,
        object: &str,
    ) -> Result<tributary_core::ObjectInfo> {
        let catalog = self.schema(organization, id).await?;
        catalog
            .objects
            .into_iter()
            .find(|candidate| candidate.name == object)
            .ok_or_else(|| Error::not_found(format!("no object `{object}` in this connector")))
    }

    async fn agent(&self, organization: &str, id: &str) -> Result<Agent> {
        self.store
            .agent_named(organization, id)
            .await?
            .ok_or_else(|| not_found("agent", id))
    }

    /// Grants `operations` on a connector to an agent; they must be among the connector's allowed ones.
    pub async fn grant(
        &self,
        organization: &str,
        agent: &str,
        connector: &str,
        operations: BTreeSet<AccessClass>,
    ) -> Result<Grant> {
        let agent = self.agent(organization, agent).await?;
        let definition = self.definition(organization, connector).await?;
        if operations.is_empty() {
            return Err(Error::invalid_input("grant at least one class of operation"));
        }
        if let Some(extra) = operations
            .iter()
            .find(|class| !definition.governance.allowed_operations.contains(class))
        {
            return Err(Error::invalid_input(format!(
                "connector `{}` does not allow {extra} operations, so they cannot be granted",
                definition.name
            )));
        }
        let grant = Grant {
            agent: agent.id,
            connector: definition.id,
            operations,
        };
        self.store.put_grant(&agent.uid, &grant).await?;
        Ok(grant)
    }

    /// Removes an agent's grant on a connector.
    pub async fn revoke(&self, organization: &str, agent: &str, connector: &str) -> Result<bool> {
        let agent = self.agent(organization, agent).await?;
        self.store.delete_grant(&agent.uid, connector).await
    }

    /// The live connector of a definition, built once and rebuilt when the definition changes.
    async fn live(&self, definition: &ConnectorDefinition) -> Result<Arc<Live>> {
        let mut live = self.live.lock().await;
        if let Some(existing) = live
            .get(&definition.id)
            .filter(|existing| existing.version == definition.updated_at)
        {
            return Ok(existing.clone());
        }
        let built = Arc::new(self.build(definition).await?);
        live.insert(definition.id.clone(), built.clone());
        Ok(built)
    }

    async fn build(&self, definition: &ConnectorDefinition) -> Result<Live> {
        let config = Value::Object(self.open(definition)?);
        let (factory, values, secrets) = self.validated(&definition.connector_type, &config)?;
        let connector = factory
            .build(values, self.boundary.access(definition.origin))
            .await
            .map_err(|error| error.redact(&secrets))?;
        Ok(Live {
            version: definition.updated_at,
            connector,
            secrets,
        })
    }

    /// Tests a stored connector for real, records the outcome on the definition (and in the audit log),
    /// and returns the report.
    pub async fn test_connection(&self, organization: &str, id: &str) -> Result<CheckReport> {
        let mut definition = self.definition(organization, id).await?;
        let started = Instant::now();
        let report = match self.live(&definition).await {
            Ok(live) => live.connector.check().await,
            Err(error) => CheckReport::from_result(Err(error), 0.0),
        };
        definition.last_test = Some(LastTest {
            at: Utc::now(),
            report: report.clone(),
        });
        if definition.status != Status::Disabled {
            definition.status = if report.status == CheckStatus::Connected {
                Status::Connected
            } else {
                Status::Error
            };
        }
        // The test changes only status fields; keep the live connector by keeping its version.
        self.store.put_connector(&definition).await?;
        let outcome = if report.is_connected() {
            Outcome::Ok
        } else {
            Outcome::Failed
        };
        let error_kind = report.error.as_ref().map(|error| error.kind.code().to_owned());
        if definition.governance.audit_queries {
            self.audit_writer()
                .write(audit::Entry {
                    organization: &definition.organization,
                    connector: &definition.id,
                    mask: definition.governance.mask_pii,
                    agent: ADMIN,
                    operation: "test_connection",
                    objects: &[],
                    arguments: &Value::Null,
                    started,
                    outcome,
                    error_kind,
                    output: None,
                    cached: false,
                    masked: &MaskReport::default(),
                })
                .await;
        }
        Ok(report)
    }

    /// Tests a config that is not saved yet (a wizard's "Test connection" step), as `origin` would save
    /// it. Nothing is created on the host (a SQLite file to be created is reported, not made), and a target
    /// the host policy refuses is refused before any socket opens.
    pub async fn test_config(
        &self,
        connector_type: &str,
        config: &Value,
        origin: Origin,
    ) -> Result<CheckReport> {
        let (factory, values, secrets) = self.validated(connector_type, config)?;
        let host = self.boundary.access(origin).without_side_effects();
        Ok(match factory.build(values, &host).await {
            Ok(connector) => {
                let mut report = connector.check().await;
                if let Some(error) = report.error.as_mut() {
                    let redacted = Error::new(error.kind, error.message.clone())
                        .with_hint(error.hint.clone())
                        .redact(&secrets);
                    error.message = redacted.message().to_owned();
                    error.hint = redacted.hint().to_owned();
                }
                report
            }
            Err(error) => CheckReport::from_result(Err(error.redact(&secrets)), 0.0),
        })
    }

    /// The tools `agent` of `organization` may call: one per granted connector and operation class it
    /// holds.
    pub async fn tools_for_agent(&self, organization: &str, agent: &str) -> Result<Vec<Tool>> {
        Ok(self
            .granted_tools(organization, agent)
            .await?
            .1
            .into_iter()
            .map(|(tool, _, _)| tool)
            .collect())
    }

    /// The agent, and each of its tools with the definition and grant it comes from.
    async fn granted_tools(
        &self,
        organization: &str,
        agent: &str,
    ) -> Result<(Agent, Vec<(Tool, ConnectorDefinition, Grant)>)> {
        let agent = self
            .store
            .agent_named(organization, agent)
            .await?
            .ok_or_else(|| {
                Error::permission_denied(format!("unknown agent `{agent}`"))
                    .with_hint("an administrator must create the agent first")
            })?;
        let mut tools = Vec::new();
        let mut sources = Vec::new();
        for grant in self.store.grants_of_agent(&agent.uid).await? {
            let Some(definition) = self.store.connector(&grant.connector).await? else {
                continue;
            };
            if definition.organization != agent.organization || definition.status == Status::Disabled {
                continue;
            }
            let live = match self.live(&definition).await {
                Ok(live) => live,
                Err(_) => continue,
            };
            for operation in live.connector.operations() {
                let allowed = grant.operations.contains(&operation.access)
                    && definition
                        .governance
                        .allowed_operations
                        .contains(&operation.access);
                if allowed {
                    tools.push(tools::tool(
                        &definition.id,
                        &definition.name,
                        &definition.connector_type,
                        operation,
                    ));
                    sources.push((definition.clone(), grant.clone()));
                }
            }
        }
        tools::deduplicate(&mut tools);
        let tools = tools
            .into_iter()
            .zip(sources)
            .map(|(tool, (definition, grant))| (tool, definition, grant))
            .collect();
        Ok((agent, tools))
    }

    /// Calls a tool for an agent of an organization through the governed path, and audits it.
    pub async fn call_tool(
        &self,
        organization: &str,
        agent: &str,
        tool: &str,
        arguments: Value,
    ) -> Result<ToolResult> {
        // 1. Identify: the agent, then the tool among its own, with its connector and grant.
        let (agent, tools) = self.granted_tools(organization, agent).await?;
        let started = Instant::now();
        let Some((tool, definition, grant)) =
            tools.into_iter().find(|(candidate, _, _)| candidate.name == tool)
        else {
            let error = Error::not_found(format!("this agent has no tool named `{}`", audit::clip(tool)))
                .with_hint("list the tools; names are {connector}_{operation}");
            // A call to a tool the agent does not have is a denial worth seeing: probing, or a stale list.
            self.audit_writer()
                .write(audit::Entry {
                    organization: &agent.organization,
                    connector: "",
                    mask: true,
                    agent: &agent.id,
                    operation: UNKNOWN_TOOL,
                    objects: &[tool.to_owned()],
                    arguments: &arguments,
                    started,
                    outcome: Outcome::Denied,
                    error_kind: Some(error.kind().code().to_owned()),
                    output: None,
                    cached: false,
                    masked: &MaskReport::default(),
                })
                .await;
            return Err(error);
        };
        // A connector that cannot be built fails the call before the stack, and is audited like one.
        let live = match self.live(&definition).await {
            Ok(live) => live,
            Err(error) => {
                if definition.governance.audit_queries {
                    self.audit_writer()
                        .write(audit::Entry {
                            organization: &definition.organization,
                            connector: &definition.id,
                            mask: definition.governance.mask_pii,
                            agent: &agent.id,
                            operation: &tool.operation,
                            objects: &[],
                            arguments: &arguments,
                            started,
                            outcome: crate::govern::layer::outcome_of(&error),
                            error_kind: Some(error.kind().code().to_owned()),
                            output: None,
                            cached: false,
                            masked: &MaskReport::default(),
                        })
                        .await;
                }
                return Err(error);
            }
        };
        let mut context = CallContext {
            request: OperationRequest::new(tool.operation.clone(), arguments),
            connector: live.connector.clone(),
            secrets: live.secrets.clone(),
            agent,
            definition,
            grant: Some(grant),
            plan: None,
            access: None,
            objects: Vec::new(),
            started,
            cached: false,
            masked: MaskReport::default(),
        };
        let output = self
            .stack()
            .run(&mut context)
            .await
            .map_err(|failure| failure.error)?;
        Ok(ToolResult {
            connector: context.definition.name,
            operation: tool.operation,
            data: output.data,
            truncation: output.truncation,
            masked: context.masked.counts,
            cached: context.cached,
        })
    }

    /// Audit records, newest first.
    pub async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        self.store.audit(query).await
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
        }
        Ok(count)
    }

    /// The id of the key new configs are sealed with.
    pub fn current_key_id(&self) -> String {
        self.keys.read().map(|keys| keys.current_id()).unwrap_or_default()
    }
}
