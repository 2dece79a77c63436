//! Shared setup: a fresh bucket on the testkit's S3 server, connectors to it, and calls through a policy.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use tributary_core::{AccessClass, AccessPolicy, Connector, ObjectRules, OperationRequest, Output, Result};
use tributary_object_store::{ObjectStoreConfig, ObjectStoreConnector, config};
use tributary_testkit::S3Server;

/// A config for `bucket` on `server`, writable, with `extra` fields on top.
pub fn config_for(server: &S3Server, bucket: &str, extra: Value) -> Value {
    let mut config = json!({
        "provider": "s3",
        "bucket": bucket,
        "endpoint": server.endpoint(),
        "region": server.region(),
        "allow_http": true,
        "access_key_id": server.access_key(),
        "secret_access_key": server.secret_key(),
        "read_only": false,
        "connect_timeout_seconds": 2,
        "request_timeout_seconds": 10,
        "max_retries": 1,
    });
    merge(&mut config, extra);
    config
}

pub fn merge(config: &mut Value, extra: Value) {
    if let (Some(config), Value::Object(extra)) = (config.as_object_mut(), extra) {
        config.extend(extra);
    }
}

/// A connector built from a raw JSON config, through the spec as a host would.
pub fn build(config: &Value) -> ObjectStoreConnector {
    let values = config::spec().validate(config).unwrap();
    ObjectStoreConnector::new(ObjectStoreConfig::from_values(&values).unwrap()).unwrap()
}

/// A fresh bucket on the shared test server, and a writable connector to it.
pub fn bucket(extra: Value) -> (String, ObjectStoreConnector) {
    let server = tributary_testkit::s3().expect(
        "the S3 test server could not start; it runs in process (s3s-fs), or set TRIBUTARY_TEST_S3_ENDPOINT \
         and its keys to use a running one",
    );
    let bucket = server.create_bucket().unwrap();
    let connector = build(&config_for(server, &bucket, extra));
    (bucket, connector)
}

/// Calls `operation` with a policy that allows reads and writes of every object.
pub async fn call(connector: &ObjectStoreConnector, operation: &str, params: Value) -> Result<Output> {
    let policy = AccessPolicy::new([AccessClass::Read, AccessClass::Write], ObjectRules::Any);
    connector
        .call(OperationRequest::new(operation, params), &policy)
        .await
}

/// Calls `operation` with a policy that allows reads and writes of `patterns` only.
pub async fn call_within(
    connector: &ObjectStoreConnector,
    patterns: &[&str],
    operation: &str,
    params: Value,
) -> Result<Output> {
    let policy = AccessPolicy::new(
        [AccessClass::Read, AccessClass::Write],
        ObjectRules::only(patterns.iter().copied()).unwrap(),
    );
    connector
        .call(OperationRequest::new(operation, params), &policy)
        .await
}

/// The document an operation returned.
pub fn document(output: &Output) -> &Value {
    match &output.data {
        tributary_core::Data::Document { document } => document,
        other => panic!("expected a document, got {other:?}"),
    }
}

/// The strings at `field` of each entry of a listing page's `list` (`objects` → their keys,
/// `common_prefixes` → the prefixes).
pub fn names(page: &Value, list: &str) -> Vec<String> {
    page[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry.get("key").unwrap_or(entry).as_str().unwrap().to_owned())
        .collect()
}

/// Asserts that a call was refused, by the policy or by key normalization.
pub fn assert_refused(result: Result<Output>, what: &str) {
    let error = result.expect_err(what);
    assert!(
        matches!(
            error.kind(),
            tributary_core::ErrorKind::PermissionDenied | tributary_core::ErrorKind::InvalidInput
        ),
        "{what}: {error}"
    );
}

/// Every page of a listing, following continuation tokens: the keys, the common prefixes and the number of
/// pages. Checks on the way that no page exceeds `page_size` and that a page says when more follow.
pub async fn list_all(
    connector: &ObjectStoreConnector,
    mut params: Value,
) -> (Vec<String>, Vec<String>, usize) {
    let page_size = params["page_size"].as_u64().unwrap_or(100) as usize;
    let (mut keys, mut prefixes, mut pages) = (Vec::new(), Vec::new(), 0);
    loop {
        let output = call(connector, "list", params.clone()).await.unwrap();
        pages += 1;
        let page = document(&output).clone();
        let (page_keys, page_prefixes) = (names(&page, "objects"), names(&page, "common_prefixes"));
        assert!(
            page_keys.len() + page_prefixes.len() <= page_size,
            "a page holds at most page_size entries: {page}"
        );
        keys.extend(page_keys);
        prefixes.extend(page_prefixes);
        let token = page["next_continuation_token"].as_str().map(str::to_owned);
        assert_eq!(
            output.is_truncated(),
            token.is_some(),
            "a page with more to come says so"
        );
        match token {
            Some(token) => params["continuation_token"] = Value::String(token),
            None => return (keys, prefixes, pages),
        }
        assert!(pages < 100, "pagination does not end");
    }
}
