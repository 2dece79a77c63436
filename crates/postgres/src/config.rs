//! The PostgreSQL connector's configuration: its [`ConnectorSpec`] (what forms and config files show) and
//! the typed [`PostgresConfig`] the connector runs on.

use std::time::Duration;

use serde::Deserialize;
use tributary_core::spec::{ConfigRule, ConnectorSpec, FieldSpec};
use tributary_core::{ConfigValues, Error, FieldError, Result, Secret};

/// The connector type's identifier.
pub const CONNECTOR_TYPE: &str = "postgresql";

/// How the connection is encrypted, with libpq's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plain TCP.
    Disable,
    /// TLS if the server offers it, without verifying its certificate; plain TCP otherwise.
    Prefer,
    /// TLS always, without verifying the certificate (protects against eavesdropping, not impersonation).
    Require,
    /// TLS always, with the certificate checked against the CA and the host name.
    VerifyFull,
}

/// A validated PostgreSQL configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// A `postgres://` URL; an alternative to the separate fields.
    #[serde(default)]
    pub url: Option<Secret>,
    /// Server host name or address.
    #[serde(default)]
    pub host: Option<String>,
    /// Server port.
    pub port: u16,
    /// Database name.
    #[serde(default)]
    pub database: Option<String>,
    /// User name.
    #[serde(default)]
    pub user: Option<String>,
    /// Password.
    #[serde(default)]
    pub password: Option<Secret>,
    /// Encryption.
    pub tls_mode: TlsMode,
    /// PEM CA certificate for `verify-full`; the public web roots are used when absent.
    #[serde(default)]
    pub ca_certificate: Option<String>,
    /// Seconds to wait for a connection, including authentication.
    pub connect_timeout_seconds: u64,
    /// Seconds a statement may run before the server cancels it.
    pub statement_timeout_seconds: u64,
    /// Connections kept in the pool.
    pub pool_size: u64,
    /// Rows a query returns when the caller does not say.
    pub default_rows: u64,
    /// Rows a query may ever return.
    pub max_rows: u64,
    /// When true (the default), sessions start read-only and the write operations are refused.
    pub read_only: bool,
}

/// The configuration form.
pub fn spec() -> ConnectorSpec {
    ConnectorSpec::new(
        CONNECTOR_TYPE,
        "PostgreSQL",
        "A PostgreSQL database (also Amazon RDS, Aurora, Cloud SQL, Supabase, Neon and other compatible servers).",
    )
    .field(
        FieldSpec::string("url", "Connection URL")
            .secret()
            .group("Connection")
            .placeholder("postgres://user:password@db.example.com:5432/shop")
            .help("A postgres:// URL. Use it instead of host, port, database, user and password."),
    )
    .field(FieldSpec::string("host", "Host").group("Connection").placeholder("db.example.com"))
    .field(FieldSpec::integer("port", "Port").range(1, 65535).default_value(5432).group("Connection"))
    .field(FieldSpec::string("database", "Database").group("Connection").placeholder("shop"))
    .field(FieldSpec::string("user", "User").group("Authentication").help("Prefer a role that can only read what agents need."))
    .field(FieldSpec::string("password", "Password").secret().group("Authentication"))
    .field(
        FieldSpec::choice("tls_mode", "TLS", ["disable", "prefer", "require", "verify-full"])
            .default_value("prefer")
            .group("TLS")
            .help("verify-full checks the server's certificate and host name; require encrypts without checking."),
    )
    .field(
        FieldSpec::text("ca_certificate", "CA certificate (PEM)")
            .group("TLS")
            .help("For verify-full with a private CA. Without it, the public web roots are trusted."),
    )
    .field(FieldSpec::integer("connect_timeout_seconds", "Connect timeout (s)").range(1, 300).default_value(10).group("Limits"))
    .field(
        FieldSpec::integer("statement_timeout_seconds", "Statement timeout (s)")
            .range(1, 3600)
            .default_value(30)
            .group("Limits"),
    )
    .field(FieldSpec::integer("pool_size", "Pool size").range(1, 100).default_value(5).group("Limits"))
    .field(FieldSpec::integer("default_rows", "Default rows per query").range(1, 1_000_000).default_value(100).group("Limits"))
    .field(FieldSpec::integer("max_rows", "Maximum rows per query").range(1, 1_000_000).default_value(10_000).group("Limits"))
    .field(
        FieldSpec::boolean("read_only", "Read only")
            .default_value(true)
            .group("Access")
            .help("Sessions start read-only and insert, update and delete are refused. Turn off to allow writes."),
    )
    .rule(ConfigRule::AtLeastOneOf { fields: vec!["url".into(), "host".into()] })
    .rule(ConfigRule::AtMostOneOf { fields: vec!["url".into(), "host".into()] })
}

impl PostgresConfig {
    /// The typed configuration from validated values.
    pub fn from_values(values: &ConfigValues) -> Result<PostgresConfig> {
        let config: PostgresConfig = values.deserialize()?;
        if config.host.is_some() {
            let missing: Vec<FieldError> = [("database", &config.database), ("user", &config.user)]
                .into_iter()
                .filter(|(_, value)| value.as_deref().is_none_or(str::is_empty))
                .map(|(field, _)| FieldError::new(field, "is required when a host is given"))
                .collect();
            if !missing.is_empty() {
                return Err(Error::invalid_config(missing));
            }
        }
        if config.default_rows > config.max_rows {
            return Err(Error::invalid_config(vec![FieldError::new(
                "default_rows",
                "must not exceed max_rows",
            )]));
        }
        Ok(config)
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_seconds)
    }

    /// The secrets of this configuration, for scrubbing errors.
    pub fn secrets(&self) -> Vec<String> {
        [&self.url, &self.password]
            .into_iter()
            .flatten()
            .map(|secret| secret.expose().to_owned())
            .collect()
    }

    /// The driver configuration, with the session settings applied at connection start.
    pub(crate) fn driver_config(&self) -> Result<tokio_postgres::Config> {
        let mut config = match &self.url {
            Some(url) => url.expose().parse::<tokio_postgres::Config>().map_err(|_| {
                // The driver's message may quote the URL, password included: say only what to fix.
                Error::invalid_config(vec![FieldError::new("url", "is not a valid postgres:// URL")])
            })?,
            None => {
                let mut config = tokio_postgres::Config::new();
                config
                    .host(self.host.as_deref().unwrap_or_default())
                    .port(self.port);
                if let Some(database) = &self.database {
                    config.dbname(database);
                }
                if let Some(user) = &self.user {
                    config.user(user);
                }
                if let Some(password) = &self.password {
                    config.password(password.expose());
                }
                config
            }
        };
        let read_only = if self.read_only { "on" } else { "off" };
        // Session state is set in the startup packet, never by a runtime SET that a pooled connection could
        // carry to its next borrower; RESET ALL on recycle returns to exactly these values.
        config
            .connect_timeout(self.connect_timeout())
            .application_name("tributary")
            .options(format!(
                "-c statement_timeout={}s -c idle_in_transaction_session_timeout={}s -c TimeZone=UTC \
                 -c default_transaction_read_only={read_only} -c lock_timeout={}s",
                self.statement_timeout_seconds,
                self.statement_timeout_seconds.saturating_mul(2),
                self.statement_timeout_seconds
            ));
        Ok(config)
    }

    /// Where the server is, for messages (never the URL: it may hold the password).
    pub(crate) fn address(&self) -> String {
        match (&self.host, &self.url) {
            (Some(host), _) => format!("{host}:{}", self.port),
            (None, Some(url)) => url
                .expose()
                .parse::<tokio_postgres::Config>()
                .ok()
                .and_then(|config| match config.get_hosts().first() {
                    Some(tokio_postgres::config::Host::Tcp(host)) => Some(format!(
                        "{host}:{}",
                        config.get_ports().first().copied().unwrap_or(5432)
                    )),
                    _ => None,
                })
                .unwrap_or_else(|| "the configured server".to_owned()),
            (None, None) => "the configured server".to_owned(),
        }
    }
}
