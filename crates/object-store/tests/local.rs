//! The local-folder provider: the same operations on a folder of this host, with no server at all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::{assert_refused, build, call, call_within, document, list_all};
use serde_json::json;
use tributary_core::{Connector, ErrorKind};
use tributary_object_store::ObjectStoreConnector;
use tributary_object_store::types::ByteRange;

fn folder(extra: serde_json::Value) -> (tempfile::TempDir, ObjectStoreConnector) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = json!({
        "provider": "local",
        "root": dir.path().join("docs").to_str().unwrap(),
        "bucket": "docs",
        "read_only": false,
    });
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    common::merge(&mut config, extra);
    let connector = build(&config);
    (dir, connector)
}

#[tokio::test]
async fn every_operation_works_on_a_folder() {
    let (dir, store) = folder(json!({}));
    let report = store.check().await;
    assert!(report.is_connected(), "{report:?}");

    call(
        &store,
        "put",
        json!({"key": "notes/a.txt", "content": "alpha", "content_type": "text/plain"}),
    )
    .await
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("docs/notes/a.txt")).unwrap(),
        "alpha"
    );
    let got = call(
        &store,
        "get",
        json!({"key": "notes/a.txt", "offset": 1, "length": 3}),
    )
    .await
    .unwrap();
    assert_eq!(document(&got)["content"], "lph");
    assert_eq!(store.head("notes/a.txt").await.unwrap().size, 5);

    call(
        &store,
        "copy",
        json!({"from": "notes/a.txt", "to": "notes/b.txt"}),
    )
    .await
    .unwrap();
    call(&store, "delete", json!({"key": "notes/a.txt"}))
        .await
        .unwrap();
    assert_eq!(
        store.head("notes/a.txt").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.get("notes/b.txt", ByteRange::whole()).await.unwrap().bytes,
        Bytes::from("alpha")
    );

    let error = call(&store, "presign_get", json!({"key": "notes/b.txt"}))
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Unsupported,
        "a folder has no URLs to sign"
    );
}

#[tokio::test]
async fn listing_pages_and_groups_like_s3() {
    let (_dir, store) = folder(json!({}));
    for key in [
        "a/1.txt",
        "a/2.txt",
        "a/3.txt",
        "a/sub/4.txt",
        "a-sibling.txt",
        "b/5.txt",
    ] {
        store.put(key, Bytes::from("x"), None).await.unwrap();
    }
    let (keys, prefixes, pages) = list_all(&store, json!({"prefix": "a/", "page_size": 2})).await;
    assert_eq!(pages, 2);
    assert_eq!(keys, ["a/1.txt", "a/2.txt", "a/3.txt"]);
    assert_eq!(prefixes, ["a/sub/"]);

    // A prefix that is not a whole folder name matches by text, as on S3.
    let partial = call(&store, "list", json!({"prefix": "a", "delimiter": ""}))
        .await
        .unwrap();
    let listed: Vec<&str> = document(&partial)["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        ["a-sibling.txt", "a/1.txt", "a/2.txt", "a/3.txt", "a/sub/4.txt"]
    );
}

#[cfg(unix)]
#[tokio::test]
async fn symbolic_links_out_of_the_folder_are_not_followed() {
    let (dir, store) = folder(json!({}));
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "host secret").unwrap();
    std::os::unix::fs::symlink(&outside, dir.path().join("docs/link")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), dir.path().join("docs/file-link.txt")).unwrap();

    for key in ["link/secret.txt", "file-link.txt"] {
        let error = store.get(key, ByteRange::whole()).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{key}: {error}");
        assert!(!error.message().contains("host secret"));
    }
    let error = store
        .put("link/planted.txt", Bytes::from("x"), None)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied);
    assert!(
        !outside.join("planted.txt").exists(),
        "nothing was written outside the folder"
    );

    let flat = call(&store, "list", json!({"delimiter": ""})).await.unwrap();
    let text = document(&flat).to_string();
    assert!(
        !text.contains("secret.txt"),
        "listings do not reveal what links point at: {text}"
    );
}

#[tokio::test]
async fn keys_cannot_climb_out_of_the_folder() {
    let (dir, store) = folder(json!({}));
    std::fs::write(dir.path().join("outside.txt"), "host file").unwrap();
    for key in [
        "../outside.txt",
        "a/../../outside.txt",
        "%2e%2e/outside.txt",
        "..%2foutside.txt",
    ] {
        let result = call_within(&store, &["docs/*"], "get", json!({"key": key})).await;
        assert_refused(result, key);
    }
}

#[tokio::test]
async fn a_missing_folder_is_reported_when_the_connector_is_built() {
    let values = tributary_object_store::config::spec()
        .validate(&json!({"provider": "local", "root": "/nonexistent/tributary-test-folder"}))
        .unwrap();
    let config = tributary_object_store::ObjectStoreConfig::from_values(&values).unwrap();
    let error = ObjectStoreConnector::new(config).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(error.message().contains("/nonexistent/tributary-test-folder"));
}

#[tokio::test]
async fn a_read_stops_at_the_hosts_byte_budget() {
    let (dir, store) = folder(json!({}));
    std::fs::write(dir.path().join("docs/big.txt"), "x".repeat(200_000)).unwrap();
    let policy = tributary_core::AccessPolicy::new(
        [tributary_core::AccessClass::Read],
        tributary_core::ObjectRules::Any,
    );
    let output = store
        .call(
            tributary_core::OperationRequest::new("get", json!({"key": "big.txt"})).with_budget(
                tributary_core::Budget {
                    max_rows: None,
                    max_bytes: Some(40_000),
                },
            ),
            &policy,
        )
        .await
        .unwrap();
    let document = document(&output);
    // Three quarters of the budget, so the content fits in it even as base64.
    assert_eq!(document["returned_bytes"], 30_000);
    assert_eq!(document["omitted_bytes"], 170_000);
    let truncation = output.truncation.clone().expect("cut by the budget");
    assert_eq!(truncation.reason, tributary_core::TruncationReason::ByteLimit);
    assert_eq!(truncation.limit, 30_000);
    assert!(serde_json::to_vec(&document).unwrap().len() <= 40_000);
}
