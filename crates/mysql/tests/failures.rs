//! Connection failures get the right error kind within the configured timeout, never hang, never leak the
//! password, and the pool recovers once the server is back. Only loopback addresses are used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
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
    let connector = common::build(&config_on_port(&db.name, closed_port().unwrap(), json!({})).await);
    let started = Instant::now();
    let error = connector.check().await.error.expect("nothing listens there");
    assert_eq!(error.kind, ErrorKind::Unreachable, "{error:?}");
    assert!(error.retryable);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_silent_server_times_out_within_the_connect_timeout() {
    let db = common::database("").await;
    let silent = SilentServer::start().await.unwrap();
    let connector =
        common::build(&config_on_port(&db.name, silent.port(), json!({"connect_timeout_seconds": 1})).await);
    let started = Instant::now();
    let error = connector
        .check()
        .await
        .error
        .expect("a silent server must not pass the check");
    let elapsed = started.elapsed();
    assert_eq!(error.kind, ErrorKind::Timeout, "{error:?}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "took {elapsed:?}"
    );
    let started = Instant::now();
    assert_eq!(
        connector
            .query("SELECT 1", vec![], None)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Timeout
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn killed_sessions_are_replaced_by_the_pool() {
    let mut db = common::database("CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1)").await;
    // A user of its own, so the connector's sessions are found by user, whatever they are doing.
    let user = format!("u_{}", &db.name[2..]);
    for host in ["%", "localhost"] {
        db.admin
            .query_drop(format!("CREATE USER '{user}'@'{host}' IDENTIFIED BY 'pw'"))
            .await
            .unwrap();
        db.admin
            .query_drop(format!("GRANT ALL ON `{}`.* TO '{user}'@'{host}'", db.name))
            .await
            .unwrap();
    }
    let connector =
        common::connector_with(&db.name, json!({"pool_size": 2, "user": user, "password": "pw"})).await;
    assert!(connector.check().await.is_connected());
    connector.query("SELECT id FROM t", vec![], None).await.unwrap();
    let mut ids: Vec<u64> = Vec::new();
    for _ in 0..50 {
        ids = db
            .admin
            .exec(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?",
                (user.as_str(),),
            )
            .await
            .unwrap();
        if !ids.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!ids.is_empty(), "the connector keeps its session in the pool");
    for id in ids {
        db.admin.query_drop(format!("KILL {id}")).await.unwrap();
    }
    let output = connector.query("SELECT id FROM t", vec![], None).await.unwrap();
    assert_eq!(common::rows(&output), json!([[1]]));
}

#[tokio::test]
async fn the_pool_recovers_after_the_server_comes_back() {
    let db = common::database("CREATE TABLE t (answer INT);\nINSERT INTO t VALUES (42)").await;
    let server = tributary_testkit::mysql().await.unwrap();
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
    assert!(started.elapsed() < Duration::from_secs(10));

    proxy.restore();
    let output = connector
        .query("SELECT answer FROM t", vec![], None)
        .await
        .unwrap();
    assert_eq!(common::rows(&output), json!([[42]]));
    assert!(connector.check().await.is_connected());
}

#[tokio::test]
async fn sessions_are_reused_not_reopened() {
    let db = common::database("").await;
    let connector = common::connector_with(&db.name, json!({"pool_size": 1})).await;
    let first = connector
        .query("SELECT CONNECTION_ID()", vec![], None)
        .await
        .unwrap();
    let second = connector
        .query("SELECT CONNECTION_ID()", vec![], None)
        .await
        .unwrap();
    assert_eq!(
        common::rows(&first),
        common::rows(&second),
        "the pool hands the same session back"
    );
}

#[tokio::test]
async fn a_runaway_query_is_stopped_by_the_statement_timeout() {
    let db = common::database("").await;
    let connector = common::connector_with(&db.name, json!({"statement_timeout_seconds": 1})).await;
    let started = Instant::now();
    let error = connector
        .query(
            "SELECT COUNT(*) FROM seq_1_to_1000000 a, seq_1_to_1000000 b WHERE a.seq + b.seq = 3",
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
    assert!(connector.query("SELECT 1", vec![], None).await.is_ok());
    let error = connector.query("SELECT 1\0", vec![], None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(!error.is_retryable());
}

/// A tenant connector to `host`, whose name `resolver` answers, under a policy that allows 127.0.0.1 only.
async fn tenant_connector(
    database: &str,
    resolver: &tributary_testkit::network::FixedResolver,
) -> tributary_mysql::MysqlConnector {
    let policy = tributary_core::TenantPolicy {
        allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
        allow_plaintext: true,
        ..tributary_core::TenantPolicy::default()
    };
    let host = tributary_core::HostAccess::tenant(&policy, tributary_core::ProtectedPaths::new())
        .unwrap()
        .with_resolver(std::sync::Arc::new(resolver.clone()));
    let config = common::config_json(database, json!({"host": "db.test"})).await;
    let values = tributary_mysql::config::spec().validate(&config).unwrap();
    tributary_mysql::MysqlConnector::with_host(
        tributary_mysql::MysqlConfig::from_values(&values).unwrap(),
        &host,
    )
    .unwrap()
}

#[tokio::test]
async fn connections_go_only_to_addresses_the_policy_checked() {
    let db = common::database("CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1)").await;
    let rebound = tributary_testkit::network::Recorder::on("127.0.0.2".parse().unwrap(), Vec::new())
        .await
        .unwrap();
    let resolver = tributary_testkit::network::FixedResolver::new();
    resolver.set("db.test", &["127.0.0.2".parse().unwrap()]);
    let refused = tenant_connector(&db.name, &resolver).await;
    let error = refused.query("SELECT id FROM t", vec![], None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidConfig, "{error}");
    assert!(
        error.fields()[0].message.contains("resolves to a loopback"),
        "{error:?}"
    );

    // Resolved and checked once, when the pool is made: every connection after goes to that address, even
    // when the name answers otherwise later and the server closes the sessions.
    resolver.set("db.test", &["127.0.0.1".parse().unwrap()]);
    let pinned = tenant_connector(&db.name, &resolver).await;
    pinned.query("SELECT id FROM t", vec![], None).await.unwrap();
    resolver.set("db.test", &["127.0.0.2".parse().unwrap()]);
    let mut admin = db.admin;
    let ids: Vec<u64> = admin
        .exec(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
            (db.name.as_str(),),
        )
        .await
        .unwrap();
    for id in ids {
        admin.query_drop(format!("KILL {id}")).await.unwrap();
    }
    let output = pinned.query("SELECT id FROM t", vec![], None).await.unwrap();
    assert_eq!(common::rows(&output), json!([[1]]));
    assert_eq!(rebound.accepted(), 0, "no connection went to the refused address");
}
