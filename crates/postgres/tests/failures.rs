//! Connection failures get the right error kind within the configured timeout, never hang, never leak the
//! password, and the pool recovers once the server is back. Only loopback addresses are used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use tributary_core::{Connector, ErrorKind};
use tributary_testkit::network::{Proxy, SilentServer, closed_port};

async fn config_on_port(database: &str, port: u16, extra: serde_json::Value) -> serde_json::Value {
    let mut config = common::config_json(database, extra).await;
    config["host"] = json!("127.0.0.1");
    config["port"] = json!(port);
    config
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_error_without_the_password() {
    let db = common::database("").await;
    let mut config = common::config_json(&db.name, json!({})).await;
    config["password"] = json!("Wrong-Pa55word-Marker");
    let connector = common::build(&config);
    let report = connector.check().await;
    let error = report.error.clone().expect("a wrong password must fail");
    assert_eq!(error.kind, ErrorKind::Authentication, "{error:?}");
    assert!(
        error.message.contains("password authentication failed"),
        "{}",
        error.message
    );
    let everything = format!(
        "{report:?} {} {connector:?}",
        serde_json::to_string(&report).unwrap()
    );
    assert!(!everything.contains("Wrong-Pa55word-Marker"), "{everything}");
    let error = connector.query("SELECT 1", vec![], None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert!(!format!("{error:?}").contains("Wrong-Pa55word-Marker"));
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let db = common::database("").await;
    let port = closed_port().unwrap();
    let connector = common::build(&config_on_port(&db.name, port, json!({})).await);
    let started = Instant::now();
    let report = connector.check().await;
    let error = report.error.expect("nothing listens there");
    assert_eq!(error.kind, ErrorKind::Unreachable, "{error:?}");
    assert!(error.retryable);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_silent_server_times_out_within_the_connect_timeout() {
    let db = common::database("").await;
    // Accepts connections and never says a word.
    let silent = SilentServer::start().await.unwrap();
    let connector =
        common::build(&config_on_port(&db.name, silent.port(), json!({"connect_timeout_seconds": 1})).await);
    let started = Instant::now();
    let report = connector.check().await;
    let elapsed = started.elapsed();
    let error = report.error.expect("a silent server must not pass the check");
    assert_eq!(error.kind, ErrorKind::Timeout, "{error:?}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "took {elapsed:?}"
    );
    let started = Instant::now();
    let error = connector.query("SELECT 1", vec![], None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(4));
    drop(silent);
}

#[tokio::test]
async fn killed_sessions_are_replaced_by_the_pool() {
    let db = common::database("CREATE TABLE t AS SELECT 1 AS id;").await;
    let connector = common::connector_with(&db.name, json!({"pool_size": 2})).await;
    assert!(connector.check().await.is_connected());
    connector.query("SELECT id FROM t", vec![], None).await.unwrap();
    let killed: i64 = db
        .admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'tributary' AND datname = $1",
            &[&db.name],
        )
        .await
        .unwrap()
        .get(0);
    assert!(killed >= 1, "the connector's session was found and killed");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let output = connector.query("SELECT id FROM t", vec![], None).await.unwrap();
    assert_eq!(
        serde_json::to_value(&output).unwrap()["data"]["rows"],
        json!([[1]])
    );
}

#[tokio::test]
async fn the_pool_recovers_after_the_server_comes_back() {
    let db = common::database("CREATE TABLE t AS SELECT 42 AS answer;").await;
    let server = tributary_testkit::postgres().await.unwrap();
    let proxy = Proxy::start(server.port()).await.unwrap();
    let connector = common::build(
        &config_on_port(
            &db.name,
            proxy.port(),
            json!({"pool_size": 2, "connect_timeout_seconds": 2}),
        )
        .await,
    );
    connector
        .query("SELECT answer FROM t", vec![], None)
        .await
        .unwrap();

    proxy.cut();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let error = connector
        .query("SELECT answer FROM t", vec![], None)
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Unreachable | ErrorKind::Timeout),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!connector.check().await.is_connected());

    proxy.restore();
    let output = connector
        .query("SELECT answer FROM t", vec![], None)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&output).unwrap()["data"]["rows"],
        json!([[42]])
    );
    assert!(connector.check().await.is_connected());
}

#[tokio::test]
async fn a_runaway_query_is_stopped_by_the_statement_timeout() {
    let db = common::database("").await;
    let connector = common::connector_with(&db.name, json!({"statement_timeout_seconds": 1})).await;
    let started = Instant::now();
    let error = connector
        .query(
            "SELECT count(*) FROM generate_series(1, 10000000000)",
            vec![],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(
        !error.is_retryable(),
        "the server cancelled it: a retry would only run as long again"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    // The session that was cancelled is usable again.
    assert!(connector.query("SELECT 1", vec![], None).await.is_ok());
    // A NUL byte is the caller's mistake, not a lost connection.
    let error = connector.query("SELECT 1\0", vec![], None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(!error.is_retryable());
}

/// A tenant's access that allows 127.0.0.1 only (the test server), resolving names through `resolver`.
fn tenant_on_loopback(resolver: &tributary_testkit::network::FixedResolver) -> tributary_core::HostAccess {
    let policy = tributary_core::TenantPolicy {
        allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
        allow_plaintext: true,
        ..tributary_core::TenantPolicy::default()
    };
    tributary_core::HostAccess::tenant(&policy, tributary_core::ProtectedPaths::new())
        .unwrap()
        .with_resolver(std::sync::Arc::new(resolver.clone()))
}

#[tokio::test]
async fn every_session_the_pool_opens_is_resolved_and_checked_again() {
    let db = common::database("CREATE TABLE t AS SELECT 1 AS id;").await;
    let resolver = tributary_testkit::network::FixedResolver::new();
    resolver.set("db.test", &["127.0.0.1".parse().unwrap()]);
    let config = common::config_json(&db.name, json!({"host": "db.test", "pool_size": 1})).await;
    let values = tributary_postgres::config::spec().validate(&config).unwrap();
    let connector = tributary_postgres::PostgresConnector::with_host(
        tributary_postgres::PostgresConfig::from_values(&values).unwrap(),
        &tenant_on_loopback(&resolver),
    )
    .unwrap();
    connector.query("SELECT id FROM t", vec![], None).await.unwrap();

    // The name now answers with an address the policy refuses (DNS rebinding), and the session dies.
    let rebound = tributary_testkit::network::Recorder::on("127.0.0.2".parse().unwrap(), Vec::new())
        .await
        .unwrap();
    resolver.set("db.test", &["127.0.0.2".parse().unwrap()]);
    db.admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tributary' AND datname = $1",
            &[&db.name],
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let error = connector
        .query("SELECT id FROM t", vec![], None)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidConfig, "{error}");
    assert!(
        error.fields()[0].message.contains("resolves to a loopback"),
        "{error:?}"
    );
    assert_eq!(
        rebound.accepted(),
        0,
        "the reconnection went nowhere the policy refuses"
    );

    // Back to the allowed address, the pool reconnects.
    resolver.set("db.test", &["127.0.0.1".parse().unwrap()]);
    connector.query("SELECT id FROM t", vec![], None).await.unwrap();
}
