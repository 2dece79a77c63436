//! Credentials at rest and in use: configs sealed in the store, reads that show secrets only as set,
//! rotation, ciphertext moved between connectors refused, and one planted secret that must appear in no
//! error, audit row, tool output, `Debug` form or stored byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{governance, host, sqlite_connector};
use serde_json::json;
use tributary_core::{AccessClass::*, ErrorKind};
use tributary_registry::{AuditQuery, ConnectorUpdate, MasterKey, NewConnector, Origin};

#[tokio::test]
async fn a_planted_secret_appears_nowhere() {
    let planted = format!("PLANTED-{}", tributary_testkit::random_hex(8));
    let host = host().await;
    let r = &host.registry;
    let closed = tributary_testkit::network::closed_port().unwrap();
    let configs = [
        (
            "pg",
            "postgresql",
            json!({"host": "127.0.0.1", "port": closed, "database": "x", "user": "agent", "password": planted, "tls_mode": "disable", "connect_timeout_seconds": 1}),
        ),
        (
            "my",
            "mysql",
            json!({"url": format!("mysql://agent:{planted}@127.0.0.1:{closed}/x"), "connect_timeout_seconds": 1}),
        ),
        (
            "files",
            "s3",
            json!({"bucket": "b", "endpoint": format!("http://127.0.0.1:{closed}"), "allow_http": true, "access_key_id": "AK",
                              "secret_access_key": planted, "connect_timeout_seconds": 1, "max_retries": 0}),
        ),
        (
            "sf",
            "salesforce",
            json!({"login_host": format!("http://127.0.0.1:{closed}"), "allow_http": true, "client_id": "id",
                                    "client_secret": planted, "username": "u", "password": planted, "connect_timeout_seconds": 1}),
        ),
    ];
    r.put_agent("acme", "bot", "Bot").await.unwrap();
    let mut shown = String::new();
    for (name, connector_type, config) in configs {
        let view = r
            .create_connector(
                "acme",
                NewConnector {
                    name: name.into(),
                    connector_type: connector_type.into(),
                    config: config.clone(),
                    governance: governance(&[Read], None),
                },
                Origin::Operator,
            )
            .await
            .unwrap();
        shown.push_str(&serde_json::to_string(&view).unwrap());
        shown.push_str(&format!("{view:?}"));
        let report = r.test_connection("acme", &view.id).await.unwrap();
        assert!(!report.is_connected(), "{name} has nothing to connect to");
        shown.push_str(&serde_json::to_string(&report).unwrap());
        shown.push_str(
            &serde_json::to_string(
                &r.test_config(connector_type, &config, Origin::Operator)
                    .await
                    .unwrap(),
            )
            .unwrap(),
        );
        r.grant("acme", "bot", &view.id, [Read].into()).await.unwrap();
    }
    for tool in r.tools_for_agent("bot").await.unwrap() {
        shown.push_str(&serde_json::to_string(&tool).unwrap());
        let operation = tool.operation.as_str();
        let args = match operation {
            "query" => json!({"sql": "SELECT 1"}),
            "soql_query" => json!({"soql": "SELECT Id FROM Account"}),
            "get" | "head" | "presign_get" => json!({"key": "x"}),
            _ => json!({}),
        };
        match r.call_tool("bot", &tool.name, args).await {
            Ok(result) => shown.push_str(&serde_json::to_string(&result).unwrap()),
            Err(error) => shown.push_str(&format!(
                "{error} {error:?} {}",
                serde_json::to_string(&error.report()).unwrap()
            )),
        }
    }
    shown.push_str(
        &serde_json::to_string(
            &r.audit(&AuditQuery {
                organization: "acme".into(),
                limit: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap(),
        )
        .unwrap(),
    );
    shown.push_str(&format!("{r:?}"));
    assert!(shown.len() > 5000, "the test looked at real output");
    assert!(!shown.contains(&planted), "the planted secret leaked: {shown}");
    assert!(
        shown.contains("\"password\":{\"set\":true}"),
        "secrets read as set"
    );

    // And not in any stored byte: the SQLite store and its WAL.
    for entry in std::fs::read_dir(host.dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes
                .windows(planted.len())
                .any(|window| window == planted.as_bytes()),
            "stored in plaintext"
        );
    }
}

#[tokio::test]
async fn updates_keep_secrets_the_reads_did_not_show() {
    let host = host().await;
    let r = &host.registry;
    let id = sqlite_connector(&host, "acme", "shop", governance(&[Read], None), true).await;
    let view = r.connector("acme", &id).await.unwrap();
    let renamed = r
        .update_connector(
            "acme",
            &id,
            ConnectorUpdate {
                name: Some("shop2".into()),
                config: Some(json!({"max_rows": 500})),
                ..Default::default()
            },
            Origin::Operator,
        )
        .await
        .unwrap();
    assert_eq!(renamed.config["max_rows"], 500);
    assert_eq!(renamed.config["path"], view.config["path"]);
    let error = r
        .update_connector(
            "acme",
            &id,
            ConnectorUpdate {
                config: Some(json!({"max_rows": "many"})),
                ..Default::default()
            },
            Origin::Operator,
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    assert_eq!(
        r.connector("globex", &id).await.unwrap_err().kind(),
        ErrorKind::NotFound,
        "organizations do not see each other's connectors"
    );
}

#[tokio::test]
async fn rotation_reencrypts_and_moved_ciphertexts_fail() {
    let host = host().await;
    let r = &host.registry;
    let a = sqlite_connector(&host, "acme", "a", governance(&[Read], None), true).await;
    let b = sqlite_connector(&host, "acme", "b", governance(&[Read], None), true).await;
    let old = r.current_key_id();
    assert_eq!(r.rotate_keys(MasterKey::generate().unwrap()).await.unwrap(), 2);
    assert_ne!(r.current_key_id(), old);
    for id in [&a, &b] {
        let stored = host.store.connector(id).await.unwrap().unwrap();
        assert_eq!(
            stored.config.key_id,
            r.current_key_id(),
            "re-encrypted under the new key"
        );
        assert!(r.test_connection("acme", id).await.unwrap().is_connected());
    }
    // Copy a's ciphertext onto b: it does not decrypt there.
    let mut moved = host.store.connector(&b).await.unwrap().unwrap();
    moved.config = host.store.connector(&a).await.unwrap().unwrap().config;
    moved.updated_at = chrono::Utc::now();
    host.store.put_connector(&moved).await.unwrap();
    let error = r.connector("acme", &b).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied);
    assert!(error.message().contains("integrity"));
}

#[tokio::test]
async fn tokens_are_stored_hashed_and_scoped() {
    use tributary_registry::Principal;
    let host = host().await;
    let r = &host.registry;
    let admin = r
        .issue_token(
            Principal::Admin {
                organization: "acme".into(),
            },
            "ops",
        )
        .await
        .unwrap();
    assert!(admin.starts_with("trb_") && admin.len() > 40);
    assert_eq!(
        r.authenticate(&admin).await.unwrap(),
        Principal::Admin {
            organization: "acme".into()
        }
    );
    assert!(
        r.issue_token(
            Principal::Agent {
                agent: "ghost".into()
            },
            "x"
        )
        .await
        .is_err(),
        "agents must exist"
    );
    r.put_agent("acme", "bot", "Bot").await.unwrap();
    let agent = r
        .issue_token(Principal::Agent { agent: "bot".into() }, "mcp")
        .await
        .unwrap();
    assert_eq!(
        r.authenticate(&agent).await.unwrap(),
        Principal::Agent { agent: "bot".into() }
    );
    for bad in ["", "trb_", "Bearer x", &admin[..admin.len() - 1]] {
        assert_eq!(
            r.authenticate(bad).await.unwrap_err().kind(),
            ErrorKind::Authentication
        );
    }
    assert!(r.revoke_token(&admin).await.unwrap());
    assert!(r.authenticate(&admin).await.is_err());
    for entry in std::fs::read_dir(host.dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes
                .windows(agent.len())
                .any(|window| window == agent.as_bytes()),
            "tokens are never stored"
        );
    }
}
