//! Rate limits (exact under concurrency, shared across two registries through Redis), the cache (hits,
//! expiry, invalidation by writes), retries of reads only, and audit rows for every call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{governance, host, sqlite_connector};
use serde_json::json;
use tributary_core::{AccessClass::*, ErrorKind};
use tributary_registry::{
    AuditQuery, ConnectorTypes, Governance, KeyRing, MasterKey, Origin, Outcome, RateLimiter, Registry,
    SqliteStore, Store,
};

fn limited(per_minute: u32) -> Governance {
    Governance {
        queries_per_minute: Some(per_minute),
        ..governance(&[Read], None)
    }
}

#[tokio::test]
async fn the_rate_limit_is_exact_under_concurrent_calls() {
    let host = host().await;
    let shop = sqlite_connector(&host, "acme", "shop", limited(5), true).await;
    host.registry.put_agent("acme", "bot", "Bot").await.unwrap();
    host.registry
        .grant("acme", "bot", &shop, [Read].into())
        .await
        .unwrap();
    let calls = (0..20).map(|_| {
        host.registry
            .call_tool("acme", "bot", "shop_query", json!({"sql": "SELECT 1"}))
    });
    let results = futures_util::future::join_all(calls).await;
    let allowed = results.iter().filter(|r| r.is_ok()).count();
    let limited: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(allowed, 5, "exactly the minute's allowance");
    assert_eq!(limited.len(), 15);
    assert!(
        limited
            .iter()
            .all(|e| e.kind() == ErrorKind::RateLimited && e.hint().starts_with("try again in"))
    );
    let audit = host
        .registry
        .audit(&AuditQuery {
            organization: "acme".into(),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.outcome == Outcome::Denied && r.error_kind.as_deref() == Some("rate_limited"))
            .count(),
        15
    );
}

#[tokio::test]
async fn two_registries_share_one_limit_through_redis() {
    let redis = tributary_testkit::redis().expect("Redis for the shared rate limit (see tributary-testkit)");
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("shared.db")).await.unwrap());
    let key = MasterKey::generate().unwrap();
    let build = |key: &MasterKey| {
        Registry::new(
            store.clone(),
            KeyRing::new(MasterKey::from_base64(&key.to_base64()).unwrap()),
            ConnectorTypes::with_defaults(),
        )
    };
    let first = build(&key)
        .unwrap()
        .with_rate_limiter(RateLimiter::redis(redis.url()).await.unwrap());
    let second = build(&key)
        .unwrap()
        .with_rate_limiter(RateLimiter::redis(redis.url()).await.unwrap());
    let db = dir.path().join("shop.db");
    common::shop_database(&db);
    let shop = first
        .create_connector(
            "acme",
            tributary_registry::NewConnector {
                name: "shop".into(),
                connector_type: "sqlite".into(),
                config: json!({"path": db.display().to_string()}),
                governance: limited(6),
            },
            Origin::Operator,
        )
        .await
        .unwrap();
    first.put_agent("acme", "bot", "Bot").await.unwrap();
    first.grant("acme", "bot", &shop.id, [Read].into()).await.unwrap();
    let calls = (0..16).map(|i| {
        let registry = if i % 2 == 0 { &first } else { &second };
        registry.call_tool("acme", "bot", "shop_query", json!({"sql": "SELECT 1"}))
    });
    let results = futures_util::future::join_all(calls).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        6,
        "one limit across both hosts"
    );
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| e.kind() == ErrorKind::RateLimited)
    );
}

#[tokio::test]
async fn reads_are_cached_until_they_expire_or_a_write_happens() {
    let host = host().await;
    let shop = sqlite_connector(
        &host,
        "acme",
        "shop",
        Governance {
            cache_ttl_seconds: 1,
            ..governance(&[Read, Write], None)
        },
        false,
    )
    .await;
    let r = &host.registry;
    r.put_agent("acme", "bot", "Bot").await.unwrap();
    r.grant("acme", "bot", &shop, [Read, Write].into()).await.unwrap();
    let query = json!({"sql": "SELECT count(*) FROM orders"});
    let first = r
        .call_tool("acme", "bot", "shop_query", query.clone())
        .await
        .unwrap();
    let second = r
        .call_tool("acme", "bot", "shop_query", query.clone())
        .await
        .unwrap();
    assert!(!first.cached && second.cached, "the second read is a hit");
    assert_eq!(first.data, second.data);
    let other = r
        .call_tool(
            "acme",
            "bot",
            "shop_query",
            json!({"sql": "SELECT count(*) FROM customers"}),
        )
        .await
        .unwrap();
    assert!(!other.cached, "other parameters, other entry");

    r.call_tool(
        "acme",
        "bot",
        "shop_insert",
        json!({"table": "orders", "rows": [{"id": 50, "customer_id": 1, "total": 1, "status": "x"}]}),
    )
    .await
    .unwrap();
    let after_write = r
        .call_tool("acme", "bot", "shop_query", query.clone())
        .await
        .unwrap();
    assert!(!after_write.cached, "a write invalidates the connector's reads");
    assert_ne!(after_write.data, first.data, "and the new count shows");

    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(
        !r.call_tool("acme", "bot", "shop_query", query)
            .await
            .unwrap()
            .cached,
        "entries expire after the TTL"
    );
    let audit = r
        .audit(&AuditQuery {
            organization: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.iter().filter(|record| record.cached).count(), 1);
}

#[tokio::test]
async fn every_call_is_audited_including_denied_ones() {
    let host = host().await;
    let shop = sqlite_connector(
        &host,
        "acme",
        "shop",
        governance(&[Read], Some(&["main.orders", "main.customers"])),
        true,
    )
    .await;
    let quiet = sqlite_connector(
        &host,
        "acme",
        "quiet",
        Governance {
            audit_queries: false,
            ..governance(&[Read], None)
        },
        true,
    )
    .await;
    let r = &host.registry;
    r.put_agent("acme", "bot", "Bot").await.unwrap();
    r.grant("acme", "bot", &shop, [Read].into()).await.unwrap();
    r.grant("acme", "bot", &quiet, [Read].into()).await.unwrap();
    r.call_tool(
        "acme",
        "bot",
        "shop_query",
        json!({"sql": "SELECT email FROM customers WHERE id = 1"}),
    )
    .await
    .unwrap();
    r.call_tool(
        "acme",
        "bot",
        "shop_query",
        json!({"sql": "SELECT * FROM secrets"}),
    )
    .await
    .unwrap_err();
    let missing = r
        .call_tool(
            "acme",
            "bot",
            "shop_query",
            json!({"sql": "SELECT nope FROM orders"}),
        )
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    // A statement the read-only rules refuse is a denial, not a failure.
    let drop = r
        .call_tool("acme", "bot", "shop_query", json!({"sql": "DROP TABLE orders"}))
        .await
        .unwrap_err();
    assert_eq!(drop.kind(), ErrorKind::PermissionDenied, "{drop}");
    // An agent can put any string in an object name: the record masks it like a result.
    r.call_tool(
        "acme",
        "bot",
        "shop_query",
        json!({"sql": "SELECT * FROM \"ada@example.com\""}),
    )
    .await
    .unwrap_err();
    // A tool the agent does not have is audited as denied.
    let unknown = r
        .call_tool("acme", "bot", "shop_drop_everything", json!({}))
        .await
        .unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    r.call_tool("acme", "bot", "quiet_query", json!({"sql": "SELECT 1"}))
        .await
        .unwrap();
    r.test_connection("acme", &shop).await.unwrap();

    let records = r
        .audit(&AuditQuery {
            organization: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let outcomes: Vec<(String, Outcome, Option<String>)> = records
        .iter()
        .rev()
        .map(|r| (r.operation.clone(), r.outcome, r.error_kind.clone()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("query".into(), Outcome::Ok, None),
            ("query".into(), Outcome::Denied, Some("permission_denied".into())),
            ("query".into(), Outcome::Failed, Some("not_found".into())),
            ("query".into(), Outcome::Denied, Some("permission_denied".into())),
            ("query".into(), Outcome::Denied, Some("permission_denied".into())),
            ("unknown_tool".into(), Outcome::Denied, Some("not_found".into())),
            ("test_connection".into(), Outcome::Ok, None),
        ],
        "the quiet connector is not audited"
    );
    let ok = &records[6];
    assert_eq!(
        (ok.agent.as_str(), ok.connector.as_str(), ok.rows),
        ("bot", shop.as_str(), 1)
    );
    assert_eq!(ok.objects, ["main.customers"]);
    assert_eq!(ok.masked["email"], 1);
    assert_eq!(ok.fingerprint.len(), 16);
    // Keyed: the plain hash of the call, which anyone could compute from a guess, is not it.
    use sha2::Digest as _;
    let params = json!({"sql": "SELECT email FROM customers WHERE id = 1"});
    let plain = hex::encode(&sha2::Sha256::digest(format!("query\0{params}").as_bytes())[..8]);
    assert_ne!(ok.fingerprint, plain, "the fingerprint is keyed");
    assert_eq!(records[1].objects, ["shop_drop_everything"]);
    assert!(
        !records[2].objects.is_empty() && records[2].objects.iter().all(|o| o.contains("<EMAIL>")),
        "the object name is masked: {:?}",
        records[2].objects
    );
    assert_eq!(records[1].connector, "");
    assert_eq!(
        records[5].objects,
        ["main.secrets"],
        "denied calls record what they tried"
    );
    let shown = serde_json::to_string(&records).unwrap();
    assert!(
        !shown.contains("ada@example.com") && !shown.contains("SELECT"),
        "no values and no statement text: {shown}"
    );
    let by_agent = r
        .audit(&AuditQuery {
            organization: "acme".into(),
            agent: Some("admin".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_agent.len(), 1);
    let other_org = r
        .audit(&AuditQuery {
            organization: "globex".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(other_org.is_empty());
}
