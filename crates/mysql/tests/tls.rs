//! TLS against a real MariaDB that presents a certificate from a throwaway CA: `require` encrypts,
//! `verify-full` accepts the right CA and host name and refuses the public roots, and the server confirms
//! the session is encrypted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use tributary_core::{Connector, ErrorKind};
use tributary_mysql::{MysqlConfig, MysqlConnector, config};
use tributary_testkit::MysqlServer;
use tributary_testkit::tls::TestCertificates;

async fn connector(server: &MysqlServer, tls: Value) -> MysqlConnector {
    let database = server.create_database().await.unwrap();
    let mut config = json!({
        "host": "localhost", "port": server.port(), "database": database, "user": server.user(),
        "password": server.password(), "connect_timeout_seconds": 5,
    });
    if let (Some(config), Value::Object(tls)) = (config.as_object_mut(), tls) {
        config.extend(tls);
    }
    MysqlConnector::new(MysqlConfig::from_values(&config::spec().validate(&config).unwrap()).unwrap())
        .unwrap()
}

async fn cipher(connector: &MysqlConnector) -> Value {
    let output = connector
        .query(
            "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'",
            vec![],
            None,
        )
        .await
        .unwrap();
    serde_json::to_value(&output).unwrap()["data"]["rows"][0][0].clone()
}

#[tokio::test]
async fn tls_modes_against_a_server_with_a_private_ca() {
    let certificates = TestCertificates::generate(&["localhost"]).unwrap();
    let server = MysqlServer::start_with_tls(&certificates).await.unwrap();

    let required = connector(&server, json!({"tls_mode": "require"})).await;
    let report = required.check().await;
    assert!(report.is_connected(), "{report:?}");
    assert!(
        cipher(&required).await.as_str().is_some_and(|c| !c.is_empty()),
        "require must encrypt"
    );

    let verified = connector(
        &server,
        json!({"tls_mode": "verify-full", "ca_certificate": certificates.ca_pem}),
    )
    .await;
    assert!(verified.check().await.is_connected());
    assert!(cipher(&verified).await.as_str().is_some_and(|c| !c.is_empty()));

    let plain = connector(&server, json!({"tls_mode": "disable"})).await;
    assert_eq!(cipher(&plain).await, json!(""), "disable does not encrypt");

    let preferred = connector(&server, json!({"tls_mode": "prefer"})).await;
    assert!(
        cipher(&preferred).await.as_str().is_some_and(|c| !c.is_empty()),
        "prefer encrypts when it can"
    );

    let public_roots = connector(&server, json!({"tls_mode": "verify-full"})).await;
    let error = public_roots
        .check()
        .await
        .error
        .expect("a private CA is not trusted by the public roots");
    assert_eq!(error.kind, ErrorKind::Unreachable, "{error:?}");
}

#[tokio::test]
async fn prefer_falls_back_to_plain_tcp_on_a_server_without_tls() {
    // The shared test server has no certificate.
    let server = tributary_testkit::mysql().await.unwrap();
    let preferred = connector(server, json!({"tls_mode": "prefer"})).await;
    let report = preferred.check().await;
    assert!(report.is_connected(), "{report:?}");
    assert_eq!(cipher(&preferred).await, json!(""));
    let required = connector(server, json!({"tls_mode": "require"})).await;
    let error = required.check().await.error.expect("require must not fall back");
    assert_eq!(error.kind, ErrorKind::Unreachable, "{error:?}");
}
