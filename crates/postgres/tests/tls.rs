//! TLS against a real PostgreSQL that presents a certificate from a throwaway CA: `require` and `prefer`
//! encrypt, `verify-full` accepts the right CA and host name and refuses the public roots or a wrong name,
//! and the server confirms the sessions are encrypted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use tributary_core::{Connector, ErrorKind};
use tributary_postgres::{PostgresConfig, PostgresConnector, config};
use tributary_testkit::PostgresServer;
use tributary_testkit::tls::TestCertificates;

fn connector(server: &PostgresServer, host: &str, tls: Value) -> PostgresConnector {
    let mut config = json!({
        "host": host, "port": server.port(), "database": "postgres", "user": server.user(),
        "password": server.password(), "connect_timeout_seconds": 5,
    });
    if let (Some(config), Value::Object(tls)) = (config.as_object_mut(), tls) {
        config.extend(tls);
    }
    PostgresConnector::new(PostgresConfig::from_values(&config::spec().validate(&config).unwrap()).unwrap())
        .unwrap()
}

async fn encrypted_sessions(server: &PostgresServer) -> i64 {
    let admin = server.connect("postgres").await.unwrap();
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'tributary' AND s.ssl",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn tls_modes_against_a_server_with_a_private_ca() {
    let certificates = TestCertificates::generate(&["localhost"]).unwrap();
    let server = PostgresServer::start_with_tls(&certificates).await.unwrap();

    let required = connector(&server, "localhost", json!({"tls_mode": "require"}));
    let report = required.check().await;
    assert!(report.is_connected(), "{report:?}");
    assert!(encrypted_sessions(&server).await >= 1, "require must encrypt");
    drop(required);

    let verified = connector(
        &server,
        "localhost",
        json!({"tls_mode": "verify-full", "ca_certificate": certificates.ca_pem}),
    );
    let report = verified.check().await;
    assert!(report.is_connected(), "{report:?}");
    let output = verified.query("SELECT 1", vec![], None).await.unwrap();
    assert_eq!(
        serde_json::to_value(&output).unwrap()["data"]["rows"],
        json!([[1]])
    );

    let preferred = connector(&server, "localhost", json!({"tls_mode": "prefer"}));
    assert!(preferred.check().await.is_connected());

    let public_roots = connector(&server, "localhost", json!({"tls_mode": "verify-full"}));
    let error = public_roots
        .check()
        .await
        .error
        .expect("a private CA is not trusted by the public roots");
    assert_eq!(error.kind, ErrorKind::Unreachable, "{error:?}");
    assert!(
        !error.retryable,
        "a certificate problem does not go away on retry"
    );
    assert!(error.message.contains("TLS"), "{}", error.message);

    let wrong_name = connector(
        &server,
        "127.0.0.1",
        json!({"tls_mode": "verify-full", "ca_certificate": certificates.ca_pem}),
    );
    let error = wrong_name
        .check()
        .await
        .error
        .expect("the certificate does not name 127.0.0.1");
    assert_eq!(error.kind, ErrorKind::Unreachable, "{error:?}");

    let bad_ca = config::spec()
        .validate(&json!({"host": "localhost", "database": "d", "user": "u", "tls_mode": "verify-full", "ca_certificate": "not a certificate"}))
        .unwrap();
    let error =
        PostgresConnector::new(PostgresConfig::from_values(&bad_ca).unwrap()).expect_err("garbage CA");
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    assert_eq!(error.fields()[0].field, "ca_certificate");
}
