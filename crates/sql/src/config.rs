//! Configuration fields the SQL connectors share, so a PostgreSQL and a MySQL form look and validate alike.

use tributary_core::spec::{ConfigRule, FieldSpec};
use tributary_core::{Error, FieldError, Result};

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
            .group("Connection")
            .placeholder(format!("{scheme}://user:password@db.example.com:{default_port}/shop"))
            .help(format!("A {scheme}:// URL naming the database. Use it instead of host, port, database, user and password.")),
        FieldSpec::string("host", "Host").group("Connection").placeholder("db.example.com"),
        FieldSpec::integer("port", "Port").range(1, 65535).default_value(default_port).group("Connection"),
        FieldSpec::string("database", "Database").group("Connection").placeholder("shop"),
        FieldSpec::string("user", "User").group("Authentication").help("Prefer a user that can only read what agents need."),
        FieldSpec::string("password", "Password").secret().group("Authentication"),
        FieldSpec::choice("tls_mode", "TLS", tls_modes.iter().copied())
            .default_value(default_tls)
            .group("TLS")
            .help("verify-full checks the server's certificate and host name; require encrypts without checking."),
        FieldSpec::text("ca_certificate", "CA certificate (PEM)")
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
