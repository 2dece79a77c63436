//! The MySQL connector's configuration: its [`ConnectorSpec`] and the typed [`MysqlConfig`].

use std::time::Duration;

use serde::Deserialize;
use tributary_core::spec::ConnectorSpec;
use tributary_core::{ConfigValues, Error, FieldError, Result, Secret};
use tributary_sql::config::{
    ServerForm, check_row_limits, check_server, query_limit_fields, read_only_field, server_fields,
    server_rules,
};

/// The connector type's identifier.
pub const CONNECTOR_TYPE: &str = "mysql";

/// How the connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plain TCP.
    Disable,
    /// TLS if the server offers it, without verifying its certificate; plain TCP otherwise.
    Prefer,
    /// TLS always, without verifying the certificate.
    Require,
    /// TLS always, with the certificate checked against the CA and the host name.
    VerifyFull,
}

/// A validated MySQL or MariaDB configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MysqlConfig {
    /// A `mysql://` URL; an alternative to the separate fields.
    #[serde(default)]
    pub url: Option<Secret>,
    /// Server host name or address.
    #[serde(default)]
    pub host: Option<String>,
    /// Server port.
    pub port: u16,
    /// The database (schema) the connector works in.
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
    /// PEM CA certificate for `verify-full`; the system's web roots are used when absent.
    #[serde(default)]
    pub ca_certificate: Option<String>,
    /// Seconds to wait for a connection, including authentication.
    pub connect_timeout_seconds: u64,
    /// Seconds a statement may run before the server stops it.
    pub statement_timeout_seconds: u64,
    /// Connections kept in the pool.
    pub pool_size: u64,
    /// Rows a query returns when the caller does not say.
    pub default_rows: u64,
    /// Rows a query may ever return.
    pub max_rows: u64,
    /// When true (the default), sessions are read-only and the write operations are refused.
    pub read_only: bool,
}

/// The configuration form.
pub fn spec() -> ConnectorSpec {
    let form = ServerForm {
        scheme: "mysql",
        default_port: 3306,
        tls_modes: &["disable", "prefer", "require", "verify-full"],
        default_tls: "require",
    };
    ConnectorSpec::new(
        CONNECTOR_TYPE,
        "MySQL / MariaDB",
        "A MySQL or MariaDB database (also Amazon RDS, Aurora MySQL, PlanetScale and other compatible servers).",
    )
    .fields(server_fields(form))
    .fields(query_limit_fields())
    .field(read_only_field("Sessions are read-only"))
    .rules(server_rules())
}

impl MysqlConfig {
    /// The typed configuration from validated values.
    pub fn from_values(values: &ConfigValues) -> Result<MysqlConfig> {
        let config: MysqlConfig = values.deserialize()?;
        check_server(
            config.host.as_deref(),
            config.database.as_deref(),
            config.user.as_deref(),
        )?;
        check_row_limits(config.default_rows, config.max_rows)?;
        let config = config.with_url_database()?;
        Ok(config)
    }

    /// Takes the database from the URL's path, which the connector needs to qualify table names.
    fn with_url_database(mut self) -> Result<MysqlConfig> {
        if let Some(url) = &self.url {
            let opts = mysql_async::Opts::from_url(url.expose()).map_err(|_| {
                Error::invalid_config(vec![FieldError::new("url", "is not a valid mysql:// URL")])
            })?;
            match opts.db_name() {
                Some(database) if !database.is_empty() => self.database = Some(database.to_owned()),
                _ => {
                    return Err(Error::invalid_config(vec![FieldError::new(
                        "url",
                        "must name the database in its path (mysql://host/shop)",
                    )]));
                }
            }
        }
        Ok(self)
    }

    /// The database the connector works in.
    pub fn database(&self) -> &str {
        self.database.as_deref().unwrap_or_default()
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

    /// Where the server is, for messages (never the URL: it may hold the password).
    pub(crate) fn address(&self) -> String {
        match (&self.host, &self.url) {
            (Some(host), _) => format!("{host}:{}", self.port),
            (None, Some(url)) => mysql_async::Opts::from_url(url.expose())
                .map(|opts| format!("{}:{}", opts.ip_or_hostname(), opts.tcp_port()))
                .unwrap_or_else(|_| "the configured server".to_owned()),
            (None, None) => "the configured server".to_owned(),
        }
    }
}
