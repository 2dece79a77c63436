//! One suite, both stores: SQLite (a file) and PostgreSQL (the real server).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::Utc;
use serde_json::json;
use tributary_core::{AccessClass, ErrorKind};
use tributary_registry::crypto::Sealed;
use tributary_registry::{
    Agent, AuditQuery, AuditRecord, ConnectorDefinition, Governance, Grant, Outcome, PostgresStore,
    Principal, SqliteStore, Status, Store, TokenRecord,
};

fn definition(id: &str, organization: &str, name: &str) -> ConnectorDefinition {
    ConnectorDefinition {
        id: id.into(),
        organization: organization.into(),
        name: name.into(),
        connector_type: "sqlite".into(),
        status: Status::Connected,
        origin: tributary_registry::Origin::Operator,
        config: Sealed {
            key_id: "k".into(),
            nonce: "n".into(),
            ciphertext: "c".into(),
        },
        governance: Governance::default(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
        last_test: None,
    }
}

fn audit(organization: &str, agent: &str, connector: &str, operation: &str) -> AuditRecord {
    AuditRecord {
        at: Utc::now(),
        organization: organization.into(),
        agent: agent.into(),
        connector: connector.into(),
        operation: operation.into(),
        objects: vec!["main.orders".into()],
        fingerprint: "abc".into(),
        rows: 3,
        bytes: 100,
        duration_ms: 2,
        outcome: Outcome::Ok,
        error_kind: None,
        cached: false,
        masked: json!({}),
    }
}

async fn suite(store: Arc<dyn Store>) {
    let a = definition("con_a", "acme", "shop");
    store.put_connector(&a).await.unwrap();
    store
        .put_connector(&definition("con_b", "acme", "crm"))
        .await
        .unwrap();
    store
        .put_connector(&definition("con_c", "globex", "shop"))
        .await
        .unwrap();
    let duplicate = store
        .put_connector(&definition("con_d", "acme", "shop"))
        .await
        .unwrap_err();
    assert_eq!(
        duplicate.kind(),
        ErrorKind::Conflict,
        "names are unique per organization"
    );

    assert_eq!(store.connector("con_a").await.unwrap().unwrap(), a);
    let names: Vec<String> = store
        .connectors("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["crm", "shop"]);
    assert_eq!(store.all_connectors().await.unwrap().len(), 3);

    let mut renamed = a.clone();
    renamed.name = "shop-v2".into();
    renamed.status = Status::Disabled;
    store.put_connector(&renamed).await.unwrap();
    assert_eq!(
        store.connector("con_a").await.unwrap().unwrap().status,
        Status::Disabled
    );

    let agent = Agent {
        id: "bot".into(),
        organization: "acme".into(),
        name: "Bot".into(),
    };
    store.put_agent(&agent).await.unwrap();
    assert_eq!(store.agents("acme").await.unwrap(), vec![agent.clone()]);
    assert!(store.agents("globex").await.unwrap().is_empty());
    let grant = Grant {
        agent: "bot".into(),
        connector: "con_a".into(),
        operations: [AccessClass::Read].into(),
    };
    store.put_grant(&grant).await.unwrap();
    store
        .put_grant(&Grant {
            connector: "con_b".into(),
            ..grant.clone()
        })
        .await
        .unwrap();
    assert_eq!(store.grants_of_agent("bot").await.unwrap().len(), 2);
    assert_eq!(
        store.grants_on_connector("con_a").await.unwrap(),
        vec![grant.clone()]
    );
    assert!(store.delete_grant("bot", "con_b").await.unwrap());
    assert!(!store.delete_grant("bot", "con_b").await.unwrap());

    assert!(store.delete_connector("con_a").await.unwrap());
    assert!(store.connector("con_a").await.unwrap().is_none());
    assert!(
        store.grants_of_agent("bot").await.unwrap().is_empty(),
        "deleting a connector deletes its grants"
    );

    for (agent, connector, operation) in [
        ("bot", "con_b", "query"),
        ("bot", "con_b", "describe_object"),
        ("other", "con_c", "query"),
    ] {
        let organization = if connector == "con_c" { "globex" } else { "acme" };
        store
            .append_audit(&audit(organization, agent, connector, operation))
            .await
            .unwrap();
    }
    let all = store
        .audit(&AuditQuery {
            organization: "acme".into(),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "only the organization's records");
    assert_eq!(all[0].operation, "describe_object", "newest first");
    let filtered = store
        .audit(&AuditQuery {
            organization: "globex".into(),
            agent: Some("other".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
    let limited = store
        .audit(&AuditQuery {
            organization: "acme".into(),
            limit: Some(1),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(limited.len(), 1);
    let second_page = store
        .audit(&AuditQuery {
            organization: "acme".into(),
            limit: Some(1),
            offset: Some(1),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(second_page[0].operation, "query", "paging walks back in time");

    let token = TokenRecord {
        principal: Principal::Admin {
            organization: "acme".into(),
        },
        label: "ci".into(),
        created_at: Utc::now(),
    };
    store.put_token("hash-1", &token).await.unwrap();
    assert_eq!(store.token("hash-1").await.unwrap(), Some(token));
    assert!(store.delete_token("hash-1").await.unwrap());
    assert!(store.token("hash-1").await.unwrap().is_none());
    store.delete_agent("bot").await.unwrap();
    assert!(store.agent("bot").await.unwrap().is_none());
    let future = store
        .audit(&AuditQuery {
            organization: "acme".into(),
            since: Some(Utc::now() + chrono::Duration::hours(1)),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(future.is_empty());
    let before_now = store
        .audit(&AuditQuery {
            organization: "acme".into(),
            until: Some(Utc::now() + chrono::Duration::seconds(1)),
            outcome: Some(Outcome::Ok),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(before_now.len(), 2, "both records are ok and older than now");
    let long_ago = store
        .audit(&AuditQuery {
            organization: "acme".into(),
            until: Some(Utc::now() - chrono::Duration::hours(1)),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(long_ago.is_empty(), "nothing was recorded an hour ago");
    let denied = store
        .audit(&AuditQuery {
            organization: "acme".into(),
            outcome: Some(Outcome::Denied),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(denied.is_empty(), "no call was denied");
}

#[tokio::test]
async fn sqlite_store_passes_the_suite_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    suite(Arc::new(SqliteStore::open(&path).await.unwrap())).await;
    let reopened = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        reopened.connectors("acme").await.unwrap().len(),
        1,
        "data survives reopening; migrations do not rerun"
    );
}

#[tokio::test]
async fn postgres_store_passes_the_suite_and_migrates_once() {
    let server = tributary_testkit::postgres()
        .await
        .expect("PostgreSQL for the store (see tributary-testkit)");
    let database = server.create_database().await.unwrap();
    let url = server.url_for(&database);
    suite(Arc::new(PostgresStore::open(&url).await.unwrap())).await;
    let (again, concurrently) = tokio::join!(PostgresStore::open(&url), PostgresStore::open(&url));
    assert_eq!(again.unwrap().connectors("acme").await.unwrap().len(), 1);
    assert!(
        concurrently.is_ok(),
        "instances starting together do not race on migrations"
    );
}
