//! Shared setup: a fresh database on the testkit's PostgreSQL, an admin client for it, and connectors.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use tributary_core::{AccessClass, AccessPolicy, ObjectRules};
use tributary_postgres::{PostgresConfig, PostgresConnector, config};

pub struct Db {
    pub name: String,
    pub admin: tokio_postgres::Client,
}

/// A fresh database with `setup` run in it by the admin user.
pub async fn database(setup: &str) -> Db {
    let server = tributary_testkit::postgres().await.unwrap();
    let name = server.create_database().await.unwrap();
    let admin = server.connect(&name).await.unwrap();
    admin.batch_execute(setup).await.unwrap();
    Db { name, admin }
}

/// A connector config for `database` on the testkit server, with `extra` fields on top.
pub async fn config_json(database: &str, extra: Value) -> Value {
    let server = tributary_testkit::postgres().await.unwrap();
    let mut config = json!({
        "host": server.host(), "port": server.port(), "database": database,
        "user": server.user(), "password": server.password(), "tls_mode": "disable",
        "connect_timeout_seconds": 5,
    });
    if let (Some(config), Value::Object(extra)) = (config.as_object_mut(), extra) {
        config.extend(extra);
    }
    config
}

/// A connector built from a raw JSON config, through the spec as a host would.
pub fn build(config: &Value) -> PostgresConnector {
    let values = config::spec().validate(config).unwrap();
    PostgresConnector::new(PostgresConfig::from_values(&values).unwrap()).unwrap()
}

pub async fn connector_with(database: &str, extra: Value) -> PostgresConnector {
    build(&config_json(database, extra).await)
}

pub fn read_write_policy() -> AccessPolicy {
    AccessPolicy::new([AccessClass::Read, AccessClass::Write], ObjectRules::Any)
}
