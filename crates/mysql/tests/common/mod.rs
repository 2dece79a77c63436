//! Shared setup: a fresh database on the testkit's MariaDB, an admin connection to it, and connectors.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use mysql_async::prelude::Queryable;
use serde_json::{Value, json};
use tributary_core::{AccessClass, AccessPolicy, ObjectRules};
use tributary_mysql::{MysqlConfig, MysqlConnector, config};

pub struct Db {
    pub name: String,
    pub admin: mysql_async::Conn,
}

/// A fresh database with `setup` (statements separated by `;\n`) run in it by the admin user.
pub async fn database(setup: &str) -> Db {
    let server = tributary_testkit::mysql().await.unwrap();
    let name = server.create_database().await.unwrap();
    let mut admin = server.connect(Some(&name)).await.unwrap();
    for statement in setup.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        admin
            .query_drop(statement)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    Db { name, admin }
}

/// A connector config for `database` on the testkit server, with `extra` fields on top.
pub async fn config_json(database: &str, extra: Value) -> Value {
    let server = tributary_testkit::mysql().await.unwrap();
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
pub fn build(config: &Value) -> MysqlConnector {
    let values = config::spec().validate(config).unwrap();
    MysqlConnector::new(MysqlConfig::from_values(&values).unwrap()).unwrap()
}

pub async fn connector_with(database: &str, extra: Value) -> MysqlConnector {
    build(&config_json(database, extra).await)
}

pub fn read_write_policy() -> AccessPolicy {
    AccessPolicy::new([AccessClass::Read, AccessClass::Write], ObjectRules::Any)
}

pub fn rows(output: &tributary_core::Output) -> Value {
    serde_json::to_value(output).unwrap()["data"]["rows"].clone()
}
