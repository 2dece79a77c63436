//! One suite, both stores: SQLite (a file) and PostgreSQL (the real server).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

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
        uid: "agt_1".into(),
        id: "bot".into(),
        organization: "acme".into(),
        name: "Bot".into(),
    };
    store.put_agent(&agent).await.unwrap();
    assert_eq!(store.agents("acme").await.unwrap(), vec![agent.clone()]);
    assert!(store.agents("globex").await.unwrap().is_empty());
    // Agent ids are unique per organization: another organization may use the same id.
    let theirs = Agent {
        uid: "agt_2".into(),
        organization: "globex".into(),
        ..agent.clone()
    };
    store.put_agent(&theirs).await.unwrap();
    assert_eq!(
        store.agent_named("globex", "bot").await.unwrap(),
        Some(theirs.clone())
    );
    assert_eq!(store.agent("agt_1").await.unwrap(), Some(agent.clone()));
    assert_eq!(store.agents_named("bot").await.unwrap().len(), 2);
    let twin = Agent {
        uid: "agt_3".into(),
        ..agent.clone()
    };
    assert_eq!(
        store.put_agent(&twin).await.unwrap_err().kind(),
        tributary_core::ErrorKind::Conflict,
        "a second `bot` in acme"
    );
    let grant = Grant {
        agent: "bot".into(),
        connector: "con_a".into(),
        operations: [AccessClass::Read].into(),
    };
    store.put_grant("agt_1", &grant).await.unwrap();
    store
        .put_grant(
            "agt_1",
            &Grant {
                connector: "con_b".into(),
                ..grant.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(store.grants_of_agent("agt_1").await.unwrap().len(), 2);
    assert!(store.grants_of_agent("agt_2").await.unwrap().is_empty());
    assert_eq!(
        store.grants_on_connector("con_a").await.unwrap(),
        vec![grant.clone()]
    );
    assert!(store.delete_grant("agt_1", "con_b").await.unwrap());
    assert!(!store.delete_grant("agt_1", "con_b").await.unwrap());

    assert!(store.delete_connector("con_a").await.unwrap());
    assert!(store.connector("con_a").await.unwrap().is_none());
    assert!(
        store.grants_of_agent("agt_1").await.unwrap().is_empty(),
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
    // A group of records written in one transaction keeps its order.
    let group: Vec<_> = (0..50)
        .map(|index| audit("initech", "bot", "con_g", &format!("op{index:02}")))
        .collect();
    store.append_audits(&group).await.unwrap();
    let written = store
        .audit(&AuditQuery {
            organization: "initech".into(),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let operations: Vec<_> = written
        .iter()
        .rev()
        .map(|record| record.operation.clone())
        .collect();
    let expected: Vec<_> = (0..50).map(|index| format!("op{index:02}")).collect();
    assert_eq!(operations, expected, "all of the group, in order");

    let token = TokenRecord {
        id: "tok_1".into(),
        principal: Principal::Admin {
            organization: "acme".into(),
        },
        agent_uid: None,
        name: "ci".into(),
        created_at: Utc::now(),
        last_used_at: None,
        expires_at: None,
    };
    store.put_token("hash-1", &token).await.unwrap();
    assert_eq!(store.token("hash-1").await.unwrap(), Some(token.clone()));
    let agent_token = TokenRecord {
        id: "tok_2".into(),
        principal: Principal::Agent {
            organization: "acme".into(),
            agent: "bot".into(),
        },
        agent_uid: Some("agt_1".into()),
        ..token.clone()
    };
    store.put_token("hash-2", &agent_token).await.unwrap();
    assert_eq!(store.tokens(Some("acme")).await.unwrap().len(), 2);
    assert!(store.tokens(Some("globex")).await.unwrap().is_empty());
    assert_eq!(store.tokens(None).await.unwrap().len(), 2);
    let used = Utc::now();
    store.touch_token("tok_1", used).await.unwrap();
    assert_eq!(
        store.token_by_id("tok_1").await.unwrap().unwrap().last_used_at,
        Some(used)
    );
    assert!(store.delete_token("hash-1").await.unwrap());
    assert!(store.token("hash-1").await.unwrap().is_none());
    assert!(!store.delete_token_by_id("tok_1").await.unwrap());
    assert!(store.delete_agent("agt_1").await.unwrap());
    assert!(store.agent("agt_1").await.unwrap().is_none());
    assert!(
        store.token_by_id("tok_2").await.unwrap().is_none(),
        "deleting an agent deletes its tokens"
    );
    assert!(
        store.agent("agt_2").await.unwrap().is_some(),
        "globex's bot stays"
    );
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

/// The schema as it stood at version 2, before agents had an internal identity, with one agent, its
/// grant, an admin token and an agent token.
const VERSION_2: &str = "CREATE TABLE tributary_migrations (version INTEGER PRIMARY KEY);
    INSERT INTO tributary_migrations (version) VALUES (1), (2);
    CREATE TABLE connectors (id TEXT PRIMARY KEY, organization TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (organization, name));
    CREATE TABLE agents (id TEXT PRIMARY KEY, organization TEXT NOT NULL, body TEXT NOT NULL);
    CREATE TABLE grants (agent TEXT NOT NULL, connector TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (agent, connector));
    CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, organization TEXT NOT NULL, agent TEXT NOT NULL, connector TEXT NOT NULL, body TEXT NOT NULL);
    CREATE TABLE tokens (hash TEXT PRIMARY KEY, body TEXT NOT NULL);
    INSERT INTO agents VALUES ('shared-bot', 'acme', '{\"id\":\"shared-bot\",\"organization\":\"acme\",\"name\":\"Bot\"}');
    INSERT INTO grants VALUES ('shared-bot', 'con_a', '{\"agent\":\"shared-bot\",\"connector\":\"con_a\",\"operations\":[\"read\"]}');
    INSERT INTO tokens VALUES ('0123456789abcdef0123', '{\"principal\":{\"kind\":\"admin\",\"organization\":\"acme\"},\"label\":\"ci\",\"created_at\":\"2026-01-01T00:00:00Z\"}');
    INSERT INTO tokens VALUES ('fedcba9876543210fedc', '{\"principal\":{\"kind\":\"agent\",\"agent\":\"shared-bot\"},\"label\":\"old\",\"created_at\":\"2026-01-01T00:00:00Z\"}');";

/// What version 3 must make of [`VERSION_2`]: the agent keeps its grant under a uid, the admin token
/// works with an id, and the agent token (bound to nothing but a reusable name) is gone.
async fn migrated_from_version_2(store: &dyn Store) {
    let agent = store.agent_named("acme", "shared-bot").await.unwrap().unwrap();
    assert_eq!(agent.uid, "shared-bot", "an old id was unique, so it is the uid");
    assert_eq!(store.grants_of_agent(&agent.uid).await.unwrap().len(), 1);
    let tokens = store.tokens(None).await.unwrap();
    assert_eq!(tokens.len(), 1, "the agent token is removed: {tokens:?}");
    assert_eq!(tokens[0].id, "tok_0123456789abcdef");
    assert_eq!(tokens[0].name, "ci", "the label becomes the name");
    assert_eq!(
        store
            .token("0123456789abcdef0123")
            .await
            .unwrap()
            .unwrap()
            .principal,
        Principal::Admin {
            organization: "acme".into()
        }
    );
    assert!(store.tokens(Some("acme")).await.unwrap().len() == 1);
}

#[tokio::test]
async fn a_version_2_sqlite_store_is_migrated_without_its_unbound_agent_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(VERSION_2)
        .unwrap();
    migrated_from_version_2(&SqliteStore::open(&path).await.unwrap()).await;
}

#[tokio::test]
async fn a_version_2_postgres_store_is_migrated_without_its_unbound_agent_tokens() {
    let server = tributary_testkit::postgres()
        .await
        .expect("PostgreSQL for the store (see tributary-testkit)");
    let database = server.create_database().await.unwrap();
    server
        .connect(&database)
        .await
        .unwrap()
        .batch_execute(&VERSION_2.replace("seq INTEGER PRIMARY KEY", "seq BIGSERIAL PRIMARY KEY"))
        .await
        .unwrap();
    let url = server.url_for(&database);
    migrated_from_version_2(&PostgresStore::open(&url).await.unwrap()).await;
}
