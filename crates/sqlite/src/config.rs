//! The SQLite connector's configuration: its [`ConnectorSpec`] and the typed [`SqliteConfig`].

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tributary_core::spec::{ConnectorSpec, FieldSpec};
use tributary_core::{ConfigValues, Error, FieldError, Result};
use tributary_sql::config::{check_row_limits, query_limit_fields, read_only_field};

/// The connector type's identifier.
pub const CONNECTOR_TYPE: &str = "sqlite";

/// The path that means an in-memory database.
pub const IN_MEMORY: &str = ":memory:";

/// A validated SQLite configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteConfig {
    /// The database file, or `:memory:`.
    pub path: String,
    /// Create the file when it does not exist (only when writes are allowed).
    pub create_if_missing: bool,
    /// Seconds to wait for another process's lock.
    pub busy_timeout_seconds: u64,
    /// Seconds a statement may run before it is interrupted.
    pub statement_timeout_seconds: u64,
    /// Rows a query returns when the caller does not say.
    pub default_rows: u64,
    /// Rows a query may ever return.
    pub max_rows: u64,
    /// When true (the default), the file is opened read-only and the write operations are refused.
    pub read_only: bool,
}

/// The configuration form.
pub fn spec() -> ConnectorSpec {
    ConnectorSpec::new(CONNECTOR_TYPE, "SQLite", "A SQLite database file on this host, or an in-memory database.")
        .field(
            FieldSpec::string("path", "Database file")
                .target()
                .required()
                .group("Database")
                .placeholder("/var/lib/app/data.db")
                .help("Path of the database file on the Tributary host, or :memory: for an empty in-memory database."),
        )
        .field(
            FieldSpec::boolean("create_if_missing", "Create if missing")
                .default_value(false)
                .group("Database")
                .help("Create an empty database when the file does not exist. Needs read_only off."),
        )
        .field(FieldSpec::integer("busy_timeout_seconds", "Busy timeout (s)").range(0, 300).default_value(5).group("Limits"))
        .fields(query_limit_fields())
        .field(read_only_field("The file is opened read-only"))
}

impl SqliteConfig {
    /// The typed configuration from validated values.
    pub fn from_values(values: &ConfigValues) -> Result<SqliteConfig> {
        let config: SqliteConfig = values.deserialize()?;
        if config.create_if_missing && config.read_only {
            return Err(Error::invalid_config(vec![FieldError::new(
                "create_if_missing",
                "needs read_only off: a read-only connector cannot create a database",
            )]));
        }
        check_row_limits(config.default_rows, config.max_rows)?;
        Ok(config)
    }

    /// Whether the database lives in memory.
    pub fn in_memory(&self) -> bool {
        self.path == IN_MEMORY
    }

    /// The file path.
    pub fn file(&self) -> PathBuf {
        PathBuf::from(&self.path)
    }

    /// The statement timeout.
    pub fn statement_timeout(&self) -> Duration {
        Duration::from_secs(self.statement_timeout_seconds)
    }
}
