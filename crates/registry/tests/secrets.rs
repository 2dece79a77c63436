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
    for tool in r.tools_for_agent("acme", "bot").await.unwrap() {
        shown.push_str(&serde_json::to_string(&tool).unwrap());
        let operation = tool.operation.as_str();
        let args = match operation {
            "query" => json!({"sql": "SELECT 1"}),
            "soql_query" => json!({"soql": "SELECT Id FROM Account"}),
            "get" | "head" | "presign_get" => json!({"key": "x"}),
            _ => json!({}),
        };
        match r.call_tool("acme", "bot", &tool.name, args).await {
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
                organization: "acme".into(),
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
        .issue_token(
            Principal::Agent {
                organization: "acme".into(),
                agent: "bot".into(),
            },
            "mcp",
        )
        .await
        .unwrap();
    assert_eq!(
        r.authenticate(&agent).await.unwrap(),
        Principal::Agent {
            organization: "acme".into(),
            agent: "bot".into()
        }
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

/// The reported attack: organization A deletes `shared-bot`, B creates `shared-bot`, and A's old token
/// must not reach B's tools; re-creating an agent must not bring its old tokens back.
#[tokio::test]
async fn a_token_dies_with_its_agent_and_never_reaches_a_namesake() {
    use tributary_registry::Principal;
    let host = host().await;
    let r = &host.registry;
    let bot = |organization: &str| Principal::Agent {
        organization: organization.into(),
        agent: "shared-bot".into(),
    };
    r.put_agent("acme", "shared-bot", "A's bot").await.unwrap();
    let old = r.issue_token(bot("acme"), "laptop").await.unwrap();
    assert_eq!(r.authenticate(&old).await.unwrap(), bot("acme"));

    // Another organization may use the same id, and creating it reveals nothing of acme's.
    let theirs = r.put_agent("globex", "shared-bot", "B's bot").await.unwrap();
    assert_eq!(theirs.organization, "globex");
    assert_eq!(
        r.authenticate(&old).await.unwrap(),
        bot("acme"),
        "acme's token is still acme's"
    );

    r.delete_agent("acme", "shared-bot").await.unwrap();
    assert_eq!(
        r.authenticate(&old).await.unwrap_err().kind(),
        ErrorKind::Authentication,
        "deleting the agent deleted its token"
    );
    assert!(
        r.tokens(Some("acme")).await.unwrap().is_empty(),
        "nothing of the token is left"
    );
    r.put_agent("acme", "shared-bot", "A's new bot").await.unwrap();
    assert_eq!(
        r.authenticate(&old).await.unwrap_err().kind(),
        ErrorKind::Authentication,
        "re-creating the agent does not bring its old token back"
    );
    assert_eq!(
        r.tools_for_agent("globex", "shared-bot").await.unwrap().len(),
        0,
        "B's agent is B's: no grants"
    );
}

#[tokio::test]
async fn tokens_have_names_expiry_last_use_and_can_be_listed_and_revoked_by_id() {
    use tributary_registry::Principal;
    let host = host().await;
    let r = &host.registry;
    let admin = Principal::Admin {
        organization: "acme".into(),
    };
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let short = r
        .issue_token_until(admin.clone(), "short-lived", Some(soon))
        .await
        .unwrap();
    let kept = r.issue_token(admin.clone(), "ops").await.unwrap();
    r.issue_token(
        Principal::Admin {
            organization: "globex".into(),
        },
        "theirs",
    )
    .await
    .unwrap();
    assert_eq!(
        r.issue_token_until(admin.clone(), "past", Some(chrono::Utc::now()))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        r.issue_token(admin.clone(), &"x".repeat(101))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput,
        "names have a length limit"
    );

    let listed = r.tokens(Some("acme")).await.unwrap();
    assert_eq!(listed.len(), 2, "only acme's: {listed:?}");
    let ops = listed.iter().find(|t| t.name == "ops").unwrap();
    assert_eq!((ops.kind.as_str(), ops.agent.as_deref()), ("admin", None));
    assert!(ops.last_used_at.is_none() && ops.expires_at.is_none());
    let value = serde_json::to_value(ops).unwrap();
    for field in [
        "id",
        "kind",
        "agent",
        "name",
        "created_at",
        "last_used_at",
        "expires_at",
    ] {
        assert!(value.get(field).is_some(), "fixed field `{field}` in {value}");
    }
    assert!(!value.to_string().contains(&kept), "a list never shows a token");

    r.authenticate(&kept).await.unwrap();
    let used = r.tokens(Some("acme")).await.unwrap();
    assert!(
        used.iter()
            .find(|t| t.name == "ops")
            .unwrap()
            .last_used_at
            .is_some()
    );

    r.authenticate(&short).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    assert_eq!(
        r.authenticate(&short).await.unwrap_err().kind(),
        ErrorKind::Authentication,
        "an expired token is refused"
    );

    // Revoking by id: only within the organization; the token stops at once.
    let theirs = r.tokens(Some("globex")).await.unwrap().remove(0);
    assert_eq!(
        r.revoke_token_id(Some("acme"), &theirs.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound,
        "another organization's token is not found"
    );
    r.revoke_token_id(Some("acme"), &ops.id).await.unwrap();
    assert_eq!(
        r.authenticate(&kept).await.unwrap_err().kind(),
        ErrorKind::Authentication
    );
    // The default lifetime applies to tokens issued without an expiry.
    let r = tributary_registry::Registry::new(
        host.store.clone(),
        tributary_registry::KeyRing::new(MasterKey::generate().unwrap()),
        tributary_registry::ConnectorTypes::empty(),
    )
    .unwrap()
    .with_token_lifetime(Some(std::time::Duration::from_secs(3600)));
    r.issue_token(admin, "default").await.unwrap();
    let default = r
        .tokens(Some("acme"))
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "default")
        .unwrap();
    let left = default.expires_at.unwrap() - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(59) && left <= chrono::Duration::minutes(60));
}

#[tokio::test]
async fn console_sessions_end_at_sign_out_and_when_their_token_is_revoked() {
    use tributary_registry::Principal;
    let host = host().await;
    let r = &host.registry;
    let admin = Principal::Admin {
        organization: "acme".into(),
    };
    let hour = std::time::Duration::from_secs(3600);
    let token = r.issue_token(admin.clone(), "console").await.unwrap();
    let (first, principal) = r.open_session(&token, hour).await.unwrap();
    assert_eq!(principal, admin);
    assert!(first.starts_with("trs_") && !first.contains(&token));
    let (second, _) = r.open_session(&token, hour).await.unwrap();
    assert_eq!(r.session(&first).await.unwrap(), admin);
    assert!(r.end_session(&first));
    assert_eq!(
        r.session(&first).await.unwrap_err().kind(),
        ErrorKind::Authentication,
        "signed out"
    );
    assert_eq!(
        r.session(&second).await.unwrap(),
        admin,
        "the other session stays"
    );
    let id = r.tokens(Some("acme")).await.unwrap().remove(0).id;
    r.revoke_token_id(None, &id).await.unwrap();
    assert_eq!(
        r.session(&second).await.unwrap_err().kind(),
        ErrorKind::Authentication,
        "revoking the token ended its session"
    );
    assert_eq!(
        r.session(&token).await.unwrap_err().kind(),
        ErrorKind::Authentication,
        "a token is not a session id"
    );
    let (brief, _) = r
        .open_session(
            &r.issue_token(admin, "brief").await.unwrap(),
            std::time::Duration::from_millis(50),
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(r.session(&brief).await.is_err(), "a session ends at its lifetime");
}
