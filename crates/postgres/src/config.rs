//! The PostgreSQL connector's configuration: its [`ConnectorSpec`] (what forms and config files show) and
//! the typed [`PostgresConfig`] the connector runs on.

use std::time::Duration;

use serde::Deserialize;
use tributary_core::spec::ConnectorSpec;
use tributary_core::{ConfigValues, Error, FieldError, Result, Secret};
use tributary_sql::config::{
    ServerForm, check_row_limits, check_server, query_limit_fields, read_only_field, server_fields,
    server_rules,
};

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
    let form = ServerForm {
        scheme: "postgres",
        default_port: 5432,
        tls_modes: &["disable", "prefer", "require", "verify-full"],
        default_tls: "prefer",
    };
    ConnectorSpec::new(
        CONNECTOR_TYPE,
        "PostgreSQL",
        "A PostgreSQL database (also Amazon RDS, Aurora, Cloud SQL, Supabase, Neon and other compatible servers).",
    )
    .fields(server_fields(form))
    .fields(query_limit_fields())
    .field(read_only_field("Sessions start read-only"))
    .rules(server_rules())
}

impl PostgresConfig {
    /// The typed configuration from validated values.
    pub fn from_values(values: &ConfigValues) -> Result<PostgresConfig> {
        let config: PostgresConfig = values.deserialize()?;
        check_server(
            config.host.as_deref(),
            config.database.as_deref(),
            config.user.as_deref(),
        )?;
        check_row_limits(config.default_rows, config.max_rows)?;
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
