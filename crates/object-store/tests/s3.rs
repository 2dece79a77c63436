//! The connector against a real S3-compatible server (s3s-fs, which checks signatures), through the same
//! `Connector::call` path agents use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use bytes::Bytes;
use common::{bucket, call, document, list_all};
use serde_json::json;
use tributary_core::{Connector, Data, ErrorKind, ObjectKind, TruncationReason};
use tributary_object_store::types::ByteRange;

#[tokio::test]
async fn put_then_get_head_and_range() {
    let (_, store) = bucket(json!({}));
    let put = call(
        &store,
        "put",
        json!({"key": "reports/2026/q1.csv", "content": "id,total\n1,9.50\n2,12.00\n", "content_type": "text/csv"}),
    )
    .await
    .unwrap();
    let Data::Write(summary) = &put.data else {
        panic!("{put:?}")
    };
    assert_eq!(summary.affected, 1);
    assert_eq!(summary.items[0]["size"], 24);
    assert_eq!(summary.items[0]["parts"], 1);

    let got = call(&store, "get", json!({"key": "reports/2026/q1.csv"}))
        .await
        .unwrap();
    assert!(!got.is_truncated());
    let got = document(&got);
    assert_eq!(got["encoding"], "text");
    assert_eq!(got["content"], "id,total\n1,9.50\n2,12.00\n");
    assert_eq!(got["size"], 24);

    let range = call(
        &store,
        "get",
        json!({"key": "reports/2026/q1.csv", "offset": 9, "length": 6}),
    )
    .await
    .unwrap();
    let range = document(&range);
    assert_eq!(range["content"], "1,9.50");
    assert_eq!(range["offset"], 9);

    let head = call(&store, "head", json!({"key": "/reports//2026/q1.csv"}))
        .await
        .unwrap();
    let head = document(&head);
    assert_eq!(head["key"], "reports/2026/q1.csv");
    assert_eq!(head["size"], 24);
    assert_eq!(head["content_type"], "text/csv");
    assert!(head["e_tag"].is_string());
}

#[tokio::test]
async fn binary_content_comes_back_as_base64_and_round_trips() {
    let (_, store) = bucket(json!({}));
    call(
        &store,
        "put",
        json!({"key": "img/pixel.bin", "content": "AP8QgA==", "encoding": "base64"}),
    )
    .await
    .unwrap();
    let got = call(&store, "get", json!({"key": "img/pixel.bin"}))
        .await
        .unwrap();
    let got = document(&got);
    assert_eq!(
        got["encoding"], "base64",
        "asked for text, but the bytes are not UTF-8"
    );
    assert_eq!(got["content"], "AP8QgA==");
    let typed = store.get("img/pixel.bin", ByteRange::whole()).await.unwrap();
    assert_eq!(typed.bytes, Bytes::from_static(&[0x00, 0xff, 0x10, 0x80]));
}

#[tokio::test]
async fn reads_are_capped_and_say_so() {
    let (_, store) = bucket(json!({"max_read_bytes": 1000}));
    store
        .put("big.txt", Bytes::from("é".repeat(1500)), None)
        .await
        .unwrap();
    let output = call(&store, "get", json!({"key": "big.txt"})).await.unwrap();
    let truncation = output
        .truncation
        .clone()
        .expect("a 3000-byte object over a 1000-byte cap is cut");
    assert_eq!(truncation.reason, TruncationReason::ByteLimit);
    assert_eq!(truncation.limit, 1000);
    assert_eq!(truncation.returned, 1000);
    assert_eq!(truncation.omitted, Some(2000));
    let got = document(&output);
    assert_eq!(
        got["encoding"], "text",
        "a cut on a character boundary stays text"
    );
    assert_eq!(got["content"].as_str().unwrap().chars().count(), 500);
    // The rest is reachable with a range.
    let rest = call(&store, "get", json!({"key": "big.txt", "offset": 2000}))
        .await
        .unwrap();
    assert!(!rest.is_truncated());
    assert_eq!(document(&rest)["returned_bytes"], 1000);
}

#[tokio::test]
async fn list_pages_through_every_key_with_continuation_tokens() {
    let (_, store) = bucket(json!({}));
    let mut expected = Vec::new();
    for i in 0..7 {
        let key = format!("logs/2026-01-0{i}.log");
        store
            .put(&key, Bytes::from(format!("line {i}")), None)
            .await
            .unwrap();
        expected.push(key);
    }
    store
        .put("logs/archive/old.log", Bytes::from("old"), None)
        .await
        .unwrap();
    store.put("readme.txt", Bytes::from("hi"), None).await.unwrap();

    let (mut seen, prefixes, pages) = list_all(&store, json!({"prefix": "logs/", "page_size": 3})).await;
    assert_eq!(pages, 3, "8 entries in pages of 3");
    seen.sort();
    assert_eq!(
        seen, expected,
        "every object exactly once, nothing from outside the prefix"
    );
    assert_eq!(prefixes, vec!["logs/archive/".to_owned()]);

    // Without the delimiter every key under the prefix is listed.
    let flat = call(
        &store,
        "list",
        json!({"prefix": "logs/", "delimiter": "", "page_size": 100}),
    )
    .await
    .unwrap();
    assert_eq!(document(&flat)["objects"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn large_bodies_go_up_as_multipart_uploads() {
    let part = 5 * 1024 * 1024;
    let (_, store) = bucket(json!({"multipart_part_bytes": part, "max_read_bytes": 32 * 1024 * 1024}));
    let body: Vec<u8> = (0..(2 * part + 1234)).map(|i| (i % 251) as u8).collect();
    let outcome = store
        .put(
            "uploads/big.bin",
            Bytes::from(body.clone()),
            Some("application/octet-stream"),
        )
        .await
        .unwrap();
    assert_eq!(outcome.parts, 3, "two full parts and a short last one");
    assert_eq!(outcome.size, body.len() as u64);
    let back = store.get("uploads/big.bin", ByteRange::whole()).await.unwrap();
    assert_eq!(back.omitted, 0);
    assert_eq!(back.bytes.len(), body.len());
    assert!(back.bytes == body, "the object reads back byte for byte");
    assert_eq!(
        store.head("uploads/big.bin").await.unwrap().size,
        body.len() as u64
    );
}

#[tokio::test]
async fn copy_then_delete() {
    let (_, store) = bucket(json!({}));
    store
        .put("a/original.txt", Bytes::from("payload"), None)
        .await
        .unwrap();
    let copied = call(
        &store,
        "copy",
        json!({"from": "a/original.txt", "to": "b/copy.txt"}),
    )
    .await
    .unwrap();
    assert!(matches!(copied.data, Data::Write(ref w) if w.affected == 1));
    let copy = store.get("b/copy.txt", ByteRange::whole()).await.unwrap();
    assert_eq!(copy.bytes, Bytes::from("payload"));

    call(&store, "delete", json!({"key": "a/original.txt"}))
        .await
        .unwrap();
    let gone = store.head("a/original.txt").await.unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);
    assert!(
        store.head("b/copy.txt").await.is_ok(),
        "deleting one key leaves the copy"
    );
}

#[tokio::test]
async fn presigned_urls_work_for_a_plain_http_client_and_only_as_signed() {
    let (_, store) = bucket(json!({}));
    store
        .put("share/report.txt", Bytes::from("shared body"), None)
        .await
        .unwrap();
    let http = reqwest::Client::new();

    let output = call(
        &store,
        "presign_get",
        json!({"key": "share/report.txt", "expires_in_seconds": 60}),
    )
    .await
    .unwrap();
    let url = document(&output)["url"].as_str().unwrap().to_owned();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "shared body");

    // The signature covers the key: the same URL for another key is refused.
    let forged = url.replace("share/report.txt", "share/other.txt");
    assert_eq!(http.get(&forged).send().await.unwrap().status(), 403);

    let output = call(&store, "presign_put", json!({"key": "share/upload.txt"}))
        .await
        .unwrap();
    let url = document(&output)["url"].as_str().unwrap().to_owned();
    let response = http.put(&url).body("uploaded without keys").send().await.unwrap();
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let uploaded = store.get("share/upload.txt", ByteRange::whole()).await.unwrap();
    assert_eq!(uploaded.bytes, Bytes::from("uploaded without keys"));

    // An expired URL is refused by the server.
    let short = store
        .presign_get("share/report.txt", std::time::Duration::from_secs(1))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(http.get(&short.url).send().await.unwrap().status(), 403);

    // Validity is bounded by the connector's limit.
    let error = call(
        &store,
        "presign_get",
        json!({"key": "share/report.txt", "expires_in_seconds": 999_999}),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn discovery_reports_the_bucket_and_its_top_level_prefixes() {
    let (bucket, store) = bucket(json!({}));
    for key in [
        "reports/2026/q1.csv",
        "reports/2025/q4.csv",
        "logs/a.log",
        "top.txt",
    ] {
        store.put(key, Bytes::from("x"), None).await.unwrap();
    }
    let catalog = store.discover().await.unwrap();
    let names: Vec<&str> = catalog.objects.iter().map(|o| o.name.as_str()).collect();
    let expected = [
        bucket.clone(),
        format!("{bucket}/logs/"),
        format!("{bucket}/reports/"),
    ];
    assert_eq!(names, expected.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(catalog.objects[0].kind, ObjectKind::Bucket);
    assert_eq!(catalog.objects[1].kind, ObjectKind::Prefix);
    assert!(!catalog.truncated);
}

#[tokio::test]
async fn check_lists_the_bucket_and_reports_latency() {
    let (bucket, store) = bucket(json!({}));
    let report = store.check().await;
    assert!(report.is_connected(), "{report:?}");
    assert!(report.latency_ms > 0.0);
    let server = report.server.unwrap();
    assert_eq!(server.details["bucket"], bucket.as_str());
    assert_eq!(server.details["empty"], true);
}

#[tokio::test]
async fn a_read_only_connector_refuses_every_write() {
    let (_, store) = bucket(json!({"read_only": true}));
    for (operation, params) in [
        ("put", json!({"key": "x.txt", "content": "x"})),
        ("delete", json!({"key": "x.txt"})),
        ("copy", json!({"from": "x.txt", "to": "y.txt"})),
        ("presign_put", json!({"key": "x.txt"})),
    ] {
        let error = call(&store, operation, params).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{operation}");
    }
    assert_eq!(
        store
            .put("x.txt", Bytes::from("x"), None)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
}
