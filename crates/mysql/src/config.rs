//! The MySQL connector's configuration: its [`ConnectorSpec`] and the typed [`MysqlConfig`].

use tributary_core::spec::ConnectorSpec;
use tributary_core::{Error, FieldError, Result};
pub use tributary_sql::config::TlsMode;
use tributary_sql::config::{
    ServerConfig, ServerForm, query_limit_fields, read_only_field, server_fields, server_rules,
};

/// The connector type's identifier.
pub const CONNECTOR_TYPE: &str = "mysql";

/// A validated MySQL or MariaDB configuration (the shared SQL server configuration).
pub type MysqlConfig = ServerConfig;

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

/// The database the connector works in: the `database` field, or the path of the URL. A MySQL connector
/// needs one to qualify the table names a statement leaves bare.
pub(crate) fn database(config: &MysqlConfig) -> Result<String> {
    let from_url = match &config.url {
        Some(url) => mysql_async::Opts::from_url(url.expose())
            .map_err(|_| Error::invalid_config(vec![FieldError::new("url", "is not a valid mysql:// URL")]))?
            .db_name()
            .map(str::to_owned),
        None => None,
    };
    from_url
        .or_else(|| config.database.clone())
        .filter(|database| !database.is_empty())
        .ok_or_else(|| {
            Error::invalid_config(vec![FieldError::new(
                "url",
                "must name the database in its path (mysql://host/shop)",
            )])
        })
}

/// Where the server is, for messages (never the URL: it may hold the password).
pub(crate) fn address(config: &MysqlConfig) -> String {
    config.address(|url| {
        mysql_async::Opts::from_url(url)
            .ok()
            .map(|opts| format!("{}:{}", opts.ip_or_hostname(), opts.tcp_port()))
    })
}
