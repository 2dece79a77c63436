//! Keys that try to leave an allowed prefix, checked through a policy as a registry checks them: every
//! trick is refused, and the object outside the prefix is never read or written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::{assert_refused, bucket, call_within, document};
use serde_json::json;
use tributary_core::{Connector, OperationRequest};
use tributary_object_store::types::ByteRange;

#[tokio::test]
async fn prefix_escapes_are_refused() {
    let (bucket, store) = bucket(json!({}));
    store
        .put("reports/2026/q1.csv", Bytes::from("allowed"), None)
        .await
        .unwrap();
    store
        .put("secrets/keys.txt", Bytes::from("TOP SECRET"), None)
        .await
        .unwrap();
    store
        .put("reports/2026-private/x.txt", Bytes::from("sibling"), None)
        .await
        .unwrap();
    let allowed = format!("{bucket}/reports/2026/*");
    let allowed = [allowed.as_str()];

    let ok = call_within(&store, &allowed, "get", json!({"key": "reports/2026/q1.csv"}))
        .await
        .unwrap();
    assert_eq!(document(&ok)["content"], "allowed");
    let ok = call_within(&store, &allowed, "get", json!({"key": "reports//2026/./q1.csv"}))
        .await
        .unwrap();
    assert_eq!(
        document(&ok)["content"],
        "allowed",
        "harmless oddities are normalized, not refused"
    );

    for key in [
        "reports/2026/../../secrets/keys.txt",
        "reports/2026/../../../secrets/keys.txt",
        "/reports/2026/../../secrets/keys.txt",
        "reports/2026/./../../secrets/keys.txt",
        "reports/2026/%2e%2e/%2e%2e/secrets/keys.txt",
        "reports/2026/%2E%2E%2F%2E%2E%2Fsecrets/keys.txt",
        "reports/2026/%252e%252e/%252e%252e/secrets/keys.txt",
        "reports/2026/..\\..\\secrets\\keys.txt",
        "reports/2026/\u{FF0E}\u{FF0E}/\u{FF0E}\u{FF0E}/secrets/keys.txt",
        "reports/2026\u{2215}..\u{2215}..\u{2215}secrets/keys.txt",
        "reports/2026/\0/../../secrets/keys.txt",
        "reports/2026-private/x.txt",
        "secrets/keys.txt",
    ] {
        for (operation, params) in [
            ("get", json!({"key": key})),
            ("head", json!({"key": key})),
            ("presign_get", json!({"key": key})),
            ("put", json!({"key": key, "content": "overwritten"})),
            ("copy", json!({"from": key, "to": "reports/2026/stolen.txt"})),
        ] {
            let result = call_within(&store, &allowed, operation, params).await;
            assert_refused(result, &format!("{operation} {key:?}"));
        }
    }

    // Listing: only the allowed prefix itself, not its parent or a sibling that shares its spelling.
    assert!(
        call_within(&store, &allowed, "list", json!({"prefix": "reports/2026/"}))
            .await
            .is_ok()
    );
    for prefix in [
        "",
        "reports/",
        "reports/2026",
        "reports/2026/../",
        "reports/2026/%2e%2e/",
    ] {
        let result = call_within(&store, &allowed, "list", json!({"prefix": prefix})).await;
        assert_refused(result, &format!("list {prefix:?}"));
    }

    let untouched = store.get("secrets/keys.txt", ByteRange::whole()).await.unwrap();
    assert_eq!(
        untouched.bytes,
        Bytes::from("TOP SECRET"),
        "nothing outside the prefix was written"
    );
    assert!(
        store.head("reports/2026/stolen.txt").await.is_err(),
        "nothing was copied out"
    );
}

#[tokio::test]
async fn the_plan_names_the_normalized_key_that_execution_uses() {
    let (bucket, store) = bucket(json!({}));
    let plan = store
        .plan(OperationRequest::new("get", json!({"key": "a/b/../c/./d.txt"})))
        .await
        .unwrap();
    let objects: Vec<&str> = plan.access().objects.iter().map(String::as_str).collect();
    assert_eq!(objects, vec![format!("{bucket}/a/c/d.txt").as_str()]);
    let copy = store
        .plan(OperationRequest::new(
            "copy",
            json!({"from": "x.txt", "to": "y/z.txt"}),
        ))
        .await
        .unwrap();
    assert_eq!(copy.access().objects.len(), 2, "a copy needs both keys allowed");
}
