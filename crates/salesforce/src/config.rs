//! The Salesforce connector's configuration: its [`ConnectorSpec`] and the typed [`SalesforceConfig`].

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tributary_core::spec::{ConfigRule, ConnectorSpec, FieldSpec};
use tributary_core::{ConfigValues, Error, FieldError, Result, Secret};

/// The connector type's identifier.
pub const CONNECTOR_TYPE: &str = "salesforce";

/// Salesforce production logins.
pub const PRODUCTION: &str = "https://login.salesforce.com";
/// Salesforce sandbox logins.
pub const SANDBOX: &str = "https://test.salesforce.com";

/// How the connector obtains access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// Username, password and security token (the `password` grant).
    Password,
    /// The connected app's own identity (`client_credentials`; needs a My Domain login host).
    ClientCredentials,
    /// A refresh token, such as the one the web-server flow yields.
    RefreshToken,
    /// An RS256 assertion signed with the connected app's private key (`jwt-bearer`).
    JwtBearer,
}

/// A validated Salesforce configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesforceConfig {
    /// `https://login.salesforce.com`, `https://test.salesforce.com`, or a My Domain URL.
    pub login_host: String,
    /// The REST API version (`62.0`).
    pub api_version: String,
    /// How tokens are obtained.
    pub grant: Grant,
    /// The connected app's consumer key.
    pub client_id: String,
    /// The connected app's consumer secret.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// The user, for the password and JWT grants.
    #[serde(default)]
    pub username: Option<String>,
    /// The user's password.
    #[serde(default)]
    pub password: Option<Secret>,
    /// The user's security token, appended to the password.
    #[serde(default)]
    pub security_token: Option<Secret>,
    /// PEM private key of the connected app's certificate, for the JWT grant.
    #[serde(default)]
    pub private_key: Option<Secret>,
    /// A refresh token.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// Allow `http://` hosts (test servers on this machine only).
    pub allow_http: bool,
    /// Seconds to wait for a connection.
    pub connect_timeout_seconds: u64,
    /// Seconds one request may take.
    pub request_timeout_seconds: u64,
    /// Records a query returns when the caller does not say.
    pub default_rows: u64,
    /// Records a query may ever return.
    pub max_rows: u64,
    /// Seconds describe results are kept before they are fetched again.
    pub describe_cache_seconds: u64,
    /// When true (the default), the write operations are refused.
    pub read_only: bool,
}

impl std::fmt::Debug for SalesforceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesforceConfig")
            .field("login_host", &self.login_host)
            .field("api_version", &self.api_version)
            .field("grant", &self.grant)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

/// The configuration form.
pub fn spec() -> ConnectorSpec {
    let auth = "Authentication";
    ConnectorSpec::new(CONNECTOR_TYPE, "Salesforce", "Records and metadata of a Salesforce org, through the REST API.")
        .field(
            FieldSpec::string("login_host", "Login host")
                .target()
                .default_value(PRODUCTION)
                .group("Org")
                .help("https://login.salesforce.com for production, https://test.salesforce.com for sandboxes, or your My Domain URL (needed for client credentials)."),
        )
        .field(FieldSpec::string("api_version", "API version").default_value("62.0").group("Org"))
        .field(
            FieldSpec::choice("grant", "Sign-in method", ["password", "client_credentials", "refresh_token", "jwt_bearer"])
                .default_value("password")
                .group(auth)
                .help("password: a user's password and security token. client_credentials: the connected app's own run-as user. refresh_token: from \"Connect with Salesforce\". jwt_bearer: a certificate's private key."),
        )
        .field(FieldSpec::string("client_id", "Consumer key").required().group(auth))
        .field(FieldSpec::string("client_secret", "Consumer secret").secret().group(auth))
        .field(FieldSpec::string("username", "Username").group(auth))
        .field(FieldSpec::string("password", "Password").secret().group(auth))
        .field(FieldSpec::string("security_token", "Security token").secret().group(auth).help("Appended to the password; not needed from trusted IP ranges."))
        .field(FieldSpec::text("private_key", "Private key (PEM)").secret().group(auth))
        .field(FieldSpec::string("refresh_token", "Refresh token").secret().group(auth))
        .field(FieldSpec::boolean("allow_http", "Allow plain HTTP").target().default_value(false).group("Org").help("Only for a test server on this machine."))
        .field(FieldSpec::integer("connect_timeout_seconds", "Connect timeout (s)").range(1, 300).default_value(10).group("Limits"))
        .field(FieldSpec::integer("request_timeout_seconds", "Request timeout (s)").range(1, 600).default_value(60).group("Limits"))
        .field(FieldSpec::integer("default_rows", "Default records").range(1, 50_000).default_value(200).group("Limits"))
        .field(FieldSpec::integer("max_rows", "Maximum records").range(1, 50_000).default_value(2000).group("Limits"))
        .field(
            FieldSpec::integer("describe_cache_seconds", "Describe cache (s)")
                .range(0, 86_400)
                .default_value(300)
                .group("Limits")
                .help("How long object lists and field descriptions are reused before they are fetched again."),
        )
        .field(
            FieldSpec::boolean("read_only", "Read only")
                .default_value(true)
                .group("Access")
                .help("create, update, delete and upsert are refused. Turn off to allow writes."),
        )
        .rules([
            required_for("password", &["username", "password"]),
            required_for("client_credentials", &["client_secret"]),
            required_for("refresh_token", &["refresh_token"]),
            required_for("jwt_bearer", &["username", "private_key"]),
        ])
}

fn required_for(grant: &str, fields: &[&str]) -> ConfigRule {
    ConfigRule::RequiredWhen {
        field: "grant".into(),
        values: vec![json!(grant)],
        required: fields.iter().map(|field| (*field).to_owned()).collect(),
    }
}

impl SalesforceConfig {
    /// The typed configuration from validated values, with the cross-field checks applied.
    pub fn from_values(values: &ConfigValues) -> Result<SalesforceConfig> {
        let mut config: SalesforceConfig = values.deserialize()?;
        config.login_host = config.login_host.trim_end_matches('/').to_owned();
        let mut errors = Vec::new();
        match config.login_host.split_once("://") {
            Some(("https", host)) if !host.is_empty() => {}
            Some(("http", host)) if !host.is_empty() && config.allow_http => {}
            Some(("http", _)) => errors.push(FieldError::new(
                "login_host",
                "http:// needs allow_http (test servers only)",
            )),
            _ => errors.push(FieldError::new(
                "login_host",
                "must be a URL such as https://login.salesforce.com",
            )),
        }
        let version_ok = config.api_version.split_once('.').is_some_and(|(major, minor)| {
            !major.is_empty()
                && major.chars().all(|c| c.is_ascii_digit())
                && minor.chars().all(|c| c.is_ascii_digit())
        });
        if !version_ok {
            errors.push(FieldError::new("api_version", "must look like 62.0"));
        }
        if config.max_rows < config.default_rows {
            errors.push(FieldError::new("default_rows", "must not exceed max_rows"));
        }
        if config.grant == Grant::ClientCredentials
            && [PRODUCTION, SANDBOX].contains(&config.login_host.as_str())
        {
            errors.push(FieldError::new(
                "login_host",
                "client credentials need your My Domain URL, not the shared login host",
            ));
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(Error::invalid_config(errors))
        }
    }

    /// The connect timeout, also the bound of a connection check.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_seconds)
    }

    /// How long describe results are reused.
    pub fn describe_ttl(&self) -> Duration {
        Duration::from_secs(self.describe_cache_seconds)
    }

    /// The secrets of this configuration, for scrubbing errors.
    pub fn secrets(&self) -> Vec<String> {
        [
            &self.client_secret,
            &self.password,
            &self.security_token,
            &self.private_key,
            &self.refresh_token,
        ]
        .into_iter()
        .flatten()
        .map(|secret| secret.expose().to_owned())
        .collect()
    }
}
