//! The configuration file (TOML). Field names are fixed by the project's documentation; more are allowed.
//!
//! `${VAR}` anywhere in the file is replaced by the environment variable before parsing, and a missing
//! variable is an error that names it and its line. Every other error names its line and field too: TOML
//! syntax and type errors carry toml's own position, and a connector or agent error is reported at the
//! line of that connector's or agent's `name`/`id`.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;
use tributary_core::{AccessClass, TenantPolicy};

mod connector_entry;

pub use connector_entry::ConnectorEntry;

/// A configuration error, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The field, as a path (`connectors[0].config.port`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// `sqlite://tributary.db` (the default) or `postgres://...`.
    #[serde(default = "default_store")]
    pub url: String,
}

fn default_store() -> String {
    "sqlite://tributary.db".to_owned()
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection { url: default_store() }
    }
}

/// `[security]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySection {
    /// The environment variable holding the base64 master key (default `TRIBUTARY_MASTER_KEY`).
    #[serde(default)]
    pub master_key_env: Option<String>,
    /// A file holding the base64 master key, readable by its owner only.
    #[serde(default)]
    pub master_key_file: Option<String>,
    /// `[security.tenants]` (an addition): what connectors created through the REST API or the console may
    /// reach. The defaults are safe for a server shared by several organizations.
    #[serde(default)]
    pub tenants: TenantPolicy,
    /// Days a new token works unless its issuer says otherwise (an addition; default 90, 0 for never).
    #[serde(default)]
    pub token_lifetime_days: Option<u32>,
}

/// How long new tokens work when `token_lifetime_days` is not set.
pub const DEFAULT_TOKEN_LIFETIME_DAYS: u32 = 90;

impl SecuritySection {
    /// The lifetime of new tokens (`None`: they never expire).
    pub fn token_lifetime(&self) -> Option<std::time::Duration> {
        match self.token_lifetime_days.unwrap_or(DEFAULT_TOKEN_LIFETIME_DAYS) {
            0 => None,
            days => Some(std::time::Duration::from_secs(u64::from(days) * 24 * 60 * 60)),
        }
    }
}

/// `[server]` (an addition: the defaults of `tributary serve`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// The address to listen on (default `127.0.0.1:8080`).
    #[serde(default)]
    pub listen: Option<String>,
    /// The `Host` names `/mcp` answers to (default `localhost`, `127.0.0.1`, `::1`); list the server's
    /// real names when it is reached through one.
    #[serde(default)]
    pub allowed_hosts: Option<Vec<String>>,
    /// Connections served at once (default 512).
    #[serde(default)]
    pub max_connections: Option<usize>,
    /// Seconds a client may take to send a request's headers (default 10).
    #[serde(default)]
    pub header_read_timeout_seconds: Option<u64>,
    /// Seconds a client may take to send a request's body (default 30).
    #[serde(default)]
    pub body_read_timeout_seconds: Option<u64>,
    /// Open MCP sessions per agent (default 16).
    #[serde(default)]
    pub mcp_sessions_per_agent: Option<usize>,
    /// Open MCP sessions in all (default 1024).
    #[serde(default)]
    pub mcp_sessions: Option<usize>,
    /// Seconds an unused MCP session stays open (default 300).
    #[serde(default)]
    pub mcp_session_idle_seconds: Option<u64>,
}

impl ServerSection {
    /// The server's options: these settings over the defaults.
    pub fn options(&self) -> crate::api::ServerOptions {
        let mut options = crate::api::ServerOptions::default();
        let seconds = std::time::Duration::from_secs;
        if let Some(hosts) = &self.allowed_hosts {
            options.allowed_hosts.clone_from(hosts);
        }
        if let Some(max) = self.max_connections {
            options.connections.max_connections = max;
        }
        if let Some(timeout) = self.header_read_timeout_seconds {
            options.connections.header_read_timeout = seconds(timeout);
        }
        if let Some(timeout) = self.body_read_timeout_seconds {
            options.body_read_timeout = seconds(timeout);
        }
        if let Some(max) = self.mcp_sessions_per_agent {
            options.mcp.sessions_per_agent = max;
        }
        if let Some(max) = self.mcp_sessions {
            options.mcp.sessions = max;
        }
        if let Some(idle) = self.mcp_session_idle_seconds {
            options.mcp.idle = seconds(idle);
        }
        options
    }
}

/// `[limits]` (an addition): what one call may return, and how many calls run at once. Connectors stop
/// reading at the per-call caps while results stream in, so these also bound the server's memory.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Rows or records one call returns (default 1000).
    #[serde(default)]
    pub max_rows: Option<usize>,
    /// Bytes of JSON one call returns (default 1 MiB).
    #[serde(default)]
    pub max_bytes: Option<usize>,
    /// Calls running at once on one connector, across agents (default 8).
    #[serde(default)]
    pub calls_per_connector: Option<usize>,
    /// Calls running at once for one agent, across connectors (default 4).
    #[serde(default)]
    pub calls_per_agent: Option<usize>,
    /// Calls that may wait for a turn, per connector and per agent (default 32); past it, `rate_limited`.
    #[serde(default)]
    pub queued_calls: Option<usize>,
    /// Seconds a call waits for its turn before it is refused as `rate_limited` (default 10).
    #[serde(default)]
    pub queue_wait_seconds: Option<u64>,
}

impl LimitsSection {
    /// The per-call caps: these settings over the defaults.
    pub fn call_limits(&self) -> tributary_registry::CallLimits {
        let mut limits = tributary_registry::CallLimits::default();
        if let Some(rows) = self.max_rows {
            limits.max_rows = rows;
        }
        if let Some(bytes) = self.max_bytes {
            limits.max_bytes = bytes;
        }
        limits
    }

    /// The bounds on calls at once: these settings over the defaults.
    pub fn concurrency(&self) -> tributary_registry::ConcurrencyLimits {
        let mut limits = tributary_registry::ConcurrencyLimits::default();
        if let Some(calls) = self.calls_per_connector {
            limits.per_connector = calls;
        }
        if let Some(calls) = self.calls_per_agent {
            limits.per_agent = calls;
        }
        if let Some(calls) = self.queued_calls {
            limits.queued = calls;
        }
        if let Some(seconds) = self.queue_wait_seconds {
            limits.wait = std::time::Duration::from_secs(seconds);
        }
        limits
    }
}

/// One grant of an agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantEntry {
    /// The connector's name (in the agent's organization).
    pub connector: String,
    /// `read`, `write`.
    pub operations: BTreeSet<AccessClass>,
}

/// One `[[agents]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentEntry {
    /// The agent's id.
    pub id: Spanned<String>,
    /// Its organization.
    pub organization: String,
    /// A display name (defaults to the id).
    #[serde(default)]
    pub name: Option<String>,
    /// Its grants.
    #[serde(default)]
    pub grants: Vec<GrantEntry>,
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `[store]`.
    #[serde(default)]
    pub store: StoreSection,
    /// `[security]`.
    #[serde(default)]
    pub security: SecuritySection,
    /// `[server]`.
    #[serde(default)]
    pub server: ServerSection,
    /// `[limits]`.
    #[serde(default)]
    pub limits: LimitsSection,
    /// `[[connectors]]`.
    #[serde(default)]
    pub connectors: Vec<ConnectorEntry>,
    /// `[[agents]]`.
    #[serde(default)]
    pub agents: Vec<AgentEntry>,
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Replaces `${VAR}` with the environment's value; every missing variable is an error.
pub fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, Vec<ConfigError>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let mut rest = text;
    let mut consumed = 0;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            errors.push(ConfigError {
                line: Some(line_of(text, consumed + start)),
                field: "${".into(),
                message: "unclosed ${".into(),
            });
            out.push_str(&rest[start..]);
            return Err(errors);
        };
        let name = &after[..end];
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match (valid, lookup(name)) {
            (true, Some(value)) => out.push_str(&value.replace('\\', "\\\\").replace('"', "\\\"")),
            (true, None) => errors.push(ConfigError {
                line: Some(line_of(text, consumed + start)),
                field: format!("${{{name}}}"),
                message: format!("the environment variable {name} is not set"),
            }),
            (false, _) => errors.push(ConfigError {
                line: Some(line_of(text, consumed + start)),
                field: format!("${{{name}}}"),
                message: "variable names are letters, digits and _".into(),
            }),
        }
        consumed += start + 2 + end + 1;
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Parses a configuration from text (after `${VAR}` expansion).
pub fn parse(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, Vec<ConfigError>> {
    let expanded = expand(text, lookup)?;
    let settings: Settings = toml::from_str(&expanded).map_err(|error| {
        let line = error.span().map(|span| line_of(&expanded, span.start));
        vec![ConfigError {
            line,
            field: "file".into(),
            message: error.message().to_owned(),
        }]
    })?;
    let mut errors = Vec::new();
    let mut names = BTreeSet::new();
    for (index, connector) in settings.connectors.iter().enumerate() {
        let line = Some(line_of(&expanded, connector.name.span().start));
        if !names.insert((connector.organization.clone(), connector.name.get_ref().clone())) {
            errors.push(ConfigError {
                line,
                field: format!("connectors[{index}].name"),
                message: "is used twice in this organization".into(),
            });
        }
    }
    for (index, agent) in settings.agents.iter().enumerate() {
        let line = Some(line_of(&expanded, agent.id.span().start));
        for grant in &agent.grants {
            if !names.contains(&(agent.organization.clone(), grant.connector.clone())) {
                errors.push(ConfigError {
                    line,
                    field: format!("agents[{index}].grants"),
                    message: format!(
                        "no connector named `{}` in organization `{}`",
                        grant.connector, agent.organization
                    ),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(errors)
    }
}

/// Reads and parses a configuration file.
pub fn load(path: &Path) -> Result<Settings, Vec<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        vec![ConfigError {
            line: None,
            field: path.display().to_string(),
            message: format!("cannot read the file: {error}"),
        }]
    })?;
    parse(&text, |name| std::env::var(name).ok())
}

/// A connector entry's config as JSON, for its `ConnectorSpec`.
pub fn config_json(entry: &ConnectorEntry) -> Value {
    serde_json::to_value(&entry.config).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[store]
url = "sqlite://tributary.db"
[security]
master_key_env = "TRIBUTARY_MASTER_KEY"
[[connectors]]
name = "shop"
organization = "acme"
type = "postgresql"
allowed_operations = ["read"]
allowed_objects = ["public.customers", "public.orders"]
mask_pii = true
audit_queries = true
cache_ttl_seconds = 60
queries_per_minute = 600
[connectors.config]
host = "127.0.0.1"
port = 5432
database = "shop"
user = "agent"
password = "${SHOP_PG_PASSWORD}"
[[agents]]
id = "support-bot"
organization = "acme"
grants = [{ connector = "shop", operations = ["read"] }]
"#;

    fn env(name: &str) -> Option<String> {
        (name == "SHOP_PG_PASSWORD").then(|| "p\"w".to_owned())
    }

    #[test]
    fn the_documented_example_parses() {
        let settings = parse(EXAMPLE, env).unwrap();
        let shop = &settings.connectors[0];
        assert_eq!(shop.name.get_ref(), "shop");
        assert_eq!(
            config_json(shop)["password"],
            "p\"w",
            "values are substituted as TOML text, quotes escaped"
        );
        assert_eq!(config_json(shop)["port"], 5432);
        assert_eq!(settings.agents[0].grants[0].connector, "shop");
    }

    /// The file's governance keys are the registry's settings (`tributary_registry::governance`): each one
    /// is accepted, means what the REST API means by it, and an entry without them gets the registry's
    /// defaults.
    #[test]
    fn every_governance_setting_is_a_key_of_a_connector_entry() {
        let entry = |extra: &str| {
            let text = format!(
                "[store]\nurl = \"sqlite://tributary.db\"\n[security]\nmaster_key_env = \"K\"\n[[connectors]]\nname = \"c\"\norganization = \"o\"\ntype = \"sqlite\"\n{extra}"
            );
            let settings = parse(&text, env).unwrap_or_else(|errors| panic!("{extra}: {errors:?}"));
            settings.connectors[0].governance.clone()
        };
        assert_eq!(entry(""), tributary_registry::Governance::default());
        for setting in tributary_registry::governance::SETTINGS {
            let example = (setting.example)();
            let value = toml::Value::try_from(&example).unwrap();
            let from_file = entry(&format!("{} = {value}\n", setting.name));
            let from_api: tributary_registry::Governance =
                serde_json::from_value(serde_json::json!({ setting.name: example })).unwrap();
            assert_eq!(from_file, from_api, "{}", setting.name);
        }
    }

    #[test]
    fn errors_name_their_line_and_field() {
        let missing = parse(EXAMPLE, |_| None).unwrap_err();
        assert_eq!(missing[0].line, Some(21));
        assert!(missing[0].message.contains("SHOP_PG_PASSWORD"));

        let typo = parse(&EXAMPLE.replace("mask_pii = true", "mask_pii = \"yes\""), env).unwrap_err();
        assert_eq!(typo[0].line, Some(12), "{typo:?}");
        assert!(typo[0].message.contains("bool"), "{typo:?}");

        let unknown = parse(
            &EXAMPLE.replace("audit_queries = true", "audit_querys = true"),
            env,
        )
        .unwrap_err();
        assert!(unknown[0].message.contains("audit_querys"), "{unknown:?}");

        let dangling = parse(
            &EXAMPLE.replace("connector = \"shop\"", "connector = \"crm\""),
            env,
        )
        .unwrap_err();
        assert_eq!(dangling[0].field, "agents[0].grants");
        assert_eq!(dangling[0].line, Some(23));
        assert_eq!(
            dangling[0].to_string(),
            "line 23: agents[0].grants: no connector named `crm` in organization `acme`"
        );
    }

    /// The governance keys are read by the registry's own types, value by value, so their errors stand
    /// where the value does and say which setting; the entry's head is still required.
    #[test]
    fn governance_errors_name_the_setting_and_its_line() {
        let empty_pattern = parse(
            &EXAMPLE.replace(
                r#"["public.customers", "public.orders"]"#,
                r#"["public.customers", " "]"#,
            ),
            env,
        )
        .unwrap_err();
        assert_eq!(empty_pattern[0].line, Some(11), "{empty_pattern:?}");
        assert!(
            empty_pattern[0].message.starts_with("allowed_objects: "),
            "{empty_pattern:?}"
        );

        let negative = parse(
            &EXAMPLE.replace("cache_ttl_seconds = 60", "cache_ttl_seconds = -1"),
            env,
        )
        .unwrap_err();
        assert_eq!(negative[0].line, Some(14), "{negative:?}");
        assert!(negative[0].message.contains("cache_ttl_seconds"), "{negative:?}");

        let unknown = parse(
            &EXAMPLE.replace("audit_queries = true", "audit_querys = true"),
            env,
        )
        .unwrap_err();
        assert_eq!(
            unknown[0].line,
            Some(13),
            "the unknown key's own line: {unknown:?}"
        );
        for setting in tributary_registry::governance::SETTINGS {
            assert!(
                unknown[0].message.contains(setting.name),
                "{} is offered: {unknown:?}",
                setting.name
            );
        }

        let untyped = parse(&EXAMPLE.replace("type = \"postgresql\"\n", ""), env).unwrap_err();
        assert!(untyped[0].message.contains("missing field `type`"), "{untyped:?}");
    }

    #[test]
    fn caps_are_set_server_wide_and_per_connector() {
        let settings = parse(
            r#"
[limits]
max_rows = 500
calls_per_agent = 2
queue_wait_seconds = 3
[[connectors]]
name = "notes"
organization = "acme"
type = "sqlite"
max_rows_per_call = 20
[connectors.config]
path = "notes.db"
"#,
            |_| None,
        )
        .unwrap();
        let limits = settings.limits.call_limits();
        assert_eq!((limits.max_rows, limits.max_bytes), (500, 1024 * 1024));
        let turns = settings.limits.concurrency();
        assert_eq!((turns.per_agent, turns.per_connector), (2, 8));
        assert_eq!(turns.wait, std::time::Duration::from_secs(3));
        assert_eq!(settings.connectors[0].governance.max_rows_per_call, Some(20));
        assert_eq!(settings.connectors[0].governance.max_bytes_per_call, None);
    }
}
