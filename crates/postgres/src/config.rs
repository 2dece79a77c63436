//! The PostgreSQL connector's configuration: its [`ConnectorSpec`] (what forms and config files show) and
//! the typed [`PostgresConfig`] the connector runs on.

use tributary_core::spec::ConnectorSpec;
use tributary_core::{Error, FieldError, Result};
pub use tributary_sql::config::TlsMode;
use tributary_sql::config::{
    ServerConfig, ServerForm, query_limit_fields, read_only_field, server_fields, server_rules,
};

/// The connector type's identifier.
pub const CONNECTOR_TYPE: &str = "postgresql";

/// A validated PostgreSQL configuration (the shared SQL server configuration).
pub type PostgresConfig = ServerConfig;

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

/// The driver configuration, with the session settings applied at connection start.
pub(crate) fn driver_config(server: &PostgresConfig) -> Result<tokio_postgres::Config> {
    let mut config = match &server.url {
        Some(url) => url.expose().parse::<tokio_postgres::Config>().map_err(|_| {
            // The driver's message may quote the URL, password included: say only what to fix.
            Error::invalid_config(vec![FieldError::new("url", "is not a valid postgres:// URL")])
        })?,
        None => {
            let mut config = tokio_postgres::Config::new();
            config
                .host(server.host.as_deref().unwrap_or_default())
                .port(server.port);
            if let Some(database) = &server.database {
                config.dbname(database);
            }
            if let Some(user) = &server.user {
                config.user(user);
            }
            if let Some(password) = &server.password {
                config.password(password.expose());
            }
            config
        }
    };
    let read_only = if server.read_only { "on" } else { "off" };
    let timeout = server.statement_timeout_seconds;
    // Session state is set in the startup packet, never by a runtime SET that a pooled connection could
    // carry to its next borrower; the reset after each call (see `connection::Lent`) returns to exactly these
    // values.
    config
        .connect_timeout(server.connect_timeout())
        .application_name("tributary")
        .options(format!(
            "-c statement_timeout={timeout}s -c idle_in_transaction_session_timeout={}s -c TimeZone=UTC \
         -c default_transaction_read_only={read_only} -c lock_timeout={timeout}s",
            timeout.saturating_mul(2),
        ));
    Ok(config)
}

/// Where the server is, for messages (never the URL: it may hold the password).
pub(crate) fn address(config: &PostgresConfig) -> String {
    config.address(|url| {
        let parsed = url.parse::<tokio_postgres::Config>().ok()?;
        match parsed.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => Some(format!(
                "{host}:{}",
                parsed.get_ports().first().copied().unwrap_or(5432)
            )),
            _ => None,
        }
    })
}
