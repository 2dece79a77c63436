//! The MySQL connector's configuration: its [`ConnectorSpec`] and the typed [`MysqlConfig`].

use std::time::Duration;

use serde::Deserialize;
use tributary_core::spec::{ConfigRule, ConnectorSpec, FieldSpec};
use tributary_core::{ConfigValues, Error, FieldError, Result, Secret};

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
    ConnectorSpec::new(CONNECTOR_TYPE, "MySQL / MariaDB", "A MySQL or MariaDB database (also Amazon RDS, Aurora MySQL, PlanetScale and other compatible servers).")
        .field(
            FieldSpec::string("url", "Connection URL")
                .secret()
                .group("Connection")
                .placeholder("mysql://user:password@db.example.com:3306/shop")
                .help("A mysql:// URL with the database in its path. Use it instead of the separate fields."),
        )
        .field(FieldSpec::string("host", "Host").group("Connection").placeholder("db.example.com"))
        .field(FieldSpec::integer("port", "Port").range(1, 65535).default_value(3306).group("Connection"))
        .field(FieldSpec::string("database", "Database").group("Connection").placeholder("shop"))
        .field(FieldSpec::string("user", "User").group("Authentication").help("Prefer a user that can only read what agents need."))
        .field(FieldSpec::string("password", "Password").secret().group("Authentication"))
        .field(
            FieldSpec::choice("tls_mode", "TLS", ["disable", "prefer", "require", "verify-full"])
                .default_value("require")
                .group("TLS")
                .help("verify-full checks the server's certificate and host name; require encrypts without checking."),
        )
        .field(FieldSpec::text("ca_certificate", "CA certificate (PEM)").group("TLS").help("For verify-full with a private CA."))
        .field(FieldSpec::integer("connect_timeout_seconds", "Connect timeout (s)").range(1, 300).default_value(10).group("Limits"))
        .field(FieldSpec::integer("statement_timeout_seconds", "Statement timeout (s)").range(1, 3600).default_value(30).group("Limits"))
        .field(FieldSpec::integer("pool_size", "Pool size").range(1, 100).default_value(5).group("Limits"))
        .field(FieldSpec::integer("default_rows", "Default rows per query").range(1, 1_000_000).default_value(100).group("Limits"))
        .field(FieldSpec::integer("max_rows", "Maximum rows per query").range(1, 1_000_000).default_value(10_000).group("Limits"))
        .field(
            FieldSpec::boolean("read_only", "Read only")
                .default_value(true)
                .group("Access")
                .help("Sessions are read-only and insert, update and delete are refused. Turn off to allow writes."),
        )
        .rule(ConfigRule::AtLeastOneOf { fields: vec!["url".into(), "host".into()] })
        .rule(ConfigRule::AtMostOneOf { fields: vec!["url".into(), "host".into()] })
}

impl MysqlConfig {
    /// The typed configuration from validated values.
    pub fn from_values(values: &ConfigValues) -> Result<MysqlConfig> {
        let config: MysqlConfig = values.deserialize()?;
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
