//! Shared setup: a Salesforce test server per test, connectors to it, and calls through a policy.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value, json};
use tributary_core::{
    AccessClass, AccessPolicy, Connector, Data, ObjectRules, OperationRequest, Output, Result,
};
use tributary_salesforce::{SalesforceConfig, SalesforceConnector, config};
use tributary_testkit::SalesforceServer;

pub async fn server() -> SalesforceServer {
    SalesforceServer::start()
        .await
        .expect("the Salesforce test server runs in process; it could not start")
}

/// A config for `grant` against `server`, writable, with `extra` on top.
pub fn config_for(server: &SalesforceServer, grant: &str, extra: Value) -> Value {
    let c = server.credentials();
    let mut config = json!({
        "login_host": server.url(), "allow_http": true, "grant": grant, "client_id": c.client_id,
        "read_only": false, "connect_timeout_seconds": 2, "request_timeout_seconds": 5,
    });
    let grant_fields = match grant {
        "password" => {
            json!({"client_secret": c.client_secret, "username": c.username, "password": c.password, "security_token": c.security_token})
        }
        "client_credentials" => json!({"client_secret": c.client_secret}),
        "refresh_token" => json!({"client_secret": c.client_secret, "refresh_token": c.refresh_token}),
        "jwt_bearer" => json!({"username": c.username, "private_key": c.private_key_pem}),
        _ => json!({}),
    };
    merge(&mut config, grant_fields);
    merge(&mut config, extra);
    config
}

pub fn merge(config: &mut Value, extra: Value) {
    if let (Some(config), Value::Object(extra)) = (config.as_object_mut(), extra) {
        config.extend(extra);
    }
}

pub fn build(config: &Value) -> SalesforceConnector {
    let values = config::spec().validate(config).unwrap();
    SalesforceConnector::new(SalesforceConfig::from_values(&values).unwrap()).unwrap()
}

/// A writable connector with the password grant.
pub fn connector(server: &SalesforceServer, extra: Value) -> SalesforceConnector {
    build(&config_for(server, "password", extra))
}

pub async fn call(connector: &SalesforceConnector, operation: &str, params: Value) -> Result<Output> {
    let policy = AccessPolicy::new([AccessClass::Read, AccessClass::Write], ObjectRules::Any);
    connector
        .call(OperationRequest::new(operation, params), &policy)
        .await
}

pub async fn call_within(
    connector: &SalesforceConnector,
    objects: &[&str],
    operation: &str,
    params: Value,
) -> Result<Output> {
    let policy = AccessPolicy::new(
        [AccessClass::Read, AccessClass::Write],
        ObjectRules::only(objects.iter().copied()).unwrap(),
    );
    connector
        .call(OperationRequest::new(operation, params), &policy)
        .await
}

pub fn records(output: &Output) -> &Vec<Map<String, Value>> {
    match &output.data {
        Data::Records { records } => records,
        other => panic!("expected records, got {other:?}"),
    }
}

pub fn accounts(count: usize) -> Vec<Map<String, Value>> {
    (0..count)
        .map(|i| json!({"Name": format!("Account {i:04}"), "Industry": if i % 2 == 0 { "Energy" } else { "Banking" }}))
        .map(|value| value.as_object().cloned().unwrap())
        .collect()
}
