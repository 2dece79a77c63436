//! Configuration fields the SQL connectors share, so a PostgreSQL and a MySQL form look and validate alike.

use std::time::Duration;

use serde::Deserialize;
use tributary_core::spec::{ConfigRule, FieldSpec};
use tributary_core::{ConfigValues, Error, FieldError, Result, Secret};

/// How a connection is encrypted, with libpq's meanings.
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

/// The typed configuration of a network SQL connector (PostgreSQL, MySQL), from values its spec
/// ([`server_fields`], [`query_limit_fields`], [`read_only_field`]) validated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// A URL (`postgres://`, `mysql://`); an alternative to the separate fields.
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

impl ServerConfig {
    /// The typed configuration from validated values, with the cross-field checks applied.
    pub fn from_values(values: &ConfigValues) -> Result<ServerConfig> {
        let config: ServerConfig = values.deserialize()?;
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

    /// Where the server is, for messages: `host:port` from the fields, or from the URL as `from_url` reads
    /// it. Never the URL itself, which may hold the password.
    pub fn address(&self, from_url: impl FnOnce(&str) -> Option<String>) -> String {
        match (&self.host, &self.url) {
            (Some(host), _) => format!("{host}:{}", self.port),
            (None, Some(url)) => from_url(url.expose()).unwrap_or_else(|| "the configured server".to_owned()),
            (None, None) => "the configured server".to_owned(),
        }
    }
}

/// What differs between the connection forms of network SQL servers.
#[derive(Debug, Clone, Copy)]
pub struct ServerForm {
    /// The URL scheme (`postgres`, `mysql`).
    pub scheme: &'static str,
    /// The server's usual port.
    pub default_port: i64,
    /// The TLS modes the connector supports, in form order.
    pub tls_modes: &'static [&'static str],
    /// The TLS mode used when none is set.
    pub default_tls: &'static str,
}

/// Connection, authentication, TLS and pool fields: `url` or `host`/`port`/`database`/`user`/`password`,
/// `tls_mode`, `ca_certificate`, `connect_timeout_seconds`, `pool_size`.
pub fn server_fields(form: ServerForm) -> Vec<FieldSpec> {
    let ServerForm {
        scheme,
        default_port,
        tls_modes,
        default_tls,
    } = form;
    vec![
        FieldSpec::string("url", "Connection URL")
            .secret()
            .target()
            .group("Connection")
            .placeholder(format!("{scheme}://user:password@db.example.com:{default_port}/shop"))
            .help(format!("A {scheme}:// URL naming the database. Use it instead of host, port, database, user and password.")),
        FieldSpec::string("host", "Host").target().group("Connection").placeholder("db.example.com"),
        FieldSpec::integer("port", "Port").target().range(1, 65535).default_value(default_port).group("Connection"),
        FieldSpec::string("database", "Database").group("Connection").placeholder("shop"),
        FieldSpec::string("user", "User").group("Authentication").help("Prefer a user that can only read what agents need."),
        FieldSpec::string("password", "Password").secret().group("Authentication"),
        FieldSpec::choice("tls_mode", "TLS", tls_modes.iter().copied())
            .target()
            .default_value(default_tls)
            .group("TLS")
            .help("verify-full checks the server's certificate and host name; require encrypts without checking."),
        FieldSpec::text("ca_certificate", "CA certificate (PEM)")
            .target()
            .group("TLS")
            .help("For verify-full with a private CA. Without it, the public web roots are trusted."),
        FieldSpec::integer("connect_timeout_seconds", "Connect timeout (s)").range(1, 300).default_value(10).group("Limits"),
        FieldSpec::integer("pool_size", "Pool size").range(1, 100).default_value(5).group("Limits"),
    ]
}

/// Exactly one of `url` and `host`.
pub fn server_rules() -> Vec<ConfigRule> {
    vec![
        ConfigRule::AtLeastOneOf {
            fields: vec!["url".into(), "host".into()],
        },
        ConfigRule::AtMostOneOf {
            fields: vec!["url".into(), "host".into()],
        },
    ]
}

/// `statement_timeout_seconds`, `default_rows`, `max_rows`.
pub fn query_limit_fields() -> Vec<FieldSpec> {
    vec![
        FieldSpec::integer("statement_timeout_seconds", "Statement timeout (s)")
            .range(1, 3600)
            .default_value(30)
            .group("Limits"),
        FieldSpec::integer("default_rows", "Default rows per query")
            .range(1, 1_000_000)
            .default_value(100)
            .group("Limits"),
        FieldSpec::integer("max_rows", "Maximum rows per query")
            .range(1, 1_000_000)
            .default_value(10_000)
            .group("Limits"),
    ]
}

/// `read_only`, on by default; `effect` says what it does for this connector type.
pub fn read_only_field(effect: &str) -> FieldSpec {
    FieldSpec::boolean("read_only", "Read only")
        .default_value(true)
        .group("Access")
        .help(format!(
            "{effect} and insert, update and delete are refused. Turn off to allow writes."
        ))
}

/// With a host (rather than a URL), the database and user must be named.
pub fn check_server(host: Option<&str>, database: Option<&str>, user: Option<&str>) -> Result<()> {
    if host.is_none() {
        return Ok(());
    }
    let missing: Vec<FieldError> = [("database", database), ("user", user)]
        .into_iter()
        .filter(|(_, value)| value.is_none_or(str::is_empty))
        .map(|(field, _)| FieldError::new(field, "is required when a host is given"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid_config(missing))
    }
}

/// The default row count may not exceed the maximum.
pub fn check_row_limits(default_rows: u64, max_rows: u64) -> Result<()> {
    if default_rows > max_rows {
        Err(Error::invalid_config(vec![FieldError::new(
            "default_rows",
            "must not exceed max_rows",
        )]))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert!(check_server(None, None, None).is_ok());
        let error = check_server(Some("h"), None, Some("")).unwrap_err();
        assert_eq!(error.fields().len(), 2);
        assert!(check_server(Some("h"), Some("d"), Some("u")).is_ok());
        assert!(check_row_limits(10, 5).is_err());
        assert!(check_row_limits(5, 5).is_ok());
    }

    #[test]
    fn server_fields_follow_the_form() {
        let form = ServerForm {
            scheme: "mysql",
            default_port: 3306,
            tls_modes: &["disable", "require"],
            default_tls: "require",
        };
        let fields = server_fields(form);
        let port = fields.iter().find(|f| f.name == "port").unwrap();
        assert_eq!(port.default, Some(serde_json::json!(3306)));
        assert!(fields.iter().find(|f| f.name == "url").unwrap().secret);
        assert!(fields.iter().find(|f| f.name == "password").unwrap().secret);
    }
}
