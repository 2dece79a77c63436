//! Failures a store can produce, each classified so an agent or administrator knows what to do: wrong
//! credentials, a missing bucket or key, a stopped server, a server that never answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::{bucket, build, call, config_for};
use serde_json::json;
use tributary_core::{Connector, ErrorKind};
use tributary_object_store::types::ByteRange;
use tributary_testkit::S3Server;
use tributary_testkit::network::{SilentServer, closed_port};

fn shared() -> &'static S3Server {
    tributary_testkit::s3().expect("the S3 test server could not start (see tributary-testkit)")
}

#[tokio::test]
async fn wrong_secret_is_an_authentication_error_that_does_not_echo_the_secret() {
    let server = shared();
    let bucket = server.create_bucket().unwrap();
    let wrong = "wrong-secret-0123456789abcdef";
    let store = build(&config_for(server, &bucket, json!({"secret_access_key": wrong})));

    let report = store.check().await;
    let error = report.error.clone().expect("a wrong secret must fail the check");
    assert_eq!(error.kind, ErrorKind::Authentication, "{error:?}");
    assert!(error.message.contains(&bucket), "{error:?}");

    let error = call(&store, "get", json!({"key": "x.txt"})).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert!(!error.is_retryable(), "retrying with the same keys cannot help");
    let shown = format!("{error} {error:?} {:?} {store:?}", error.report());
    assert!(!shown.contains(wrong), "the secret leaked: {shown}");
}

#[tokio::test]
async fn unknown_access_key_is_an_authentication_error() {
    let server = shared();
    let bucket = server.create_bucket().unwrap();
    let store = build(&config_for(server, &bucket, json!({"access_key_id": "AKNOBODY"})));
    let report = store.check().await;
    assert_eq!(report.error.unwrap().kind, ErrorKind::Authentication);
}

#[tokio::test]
async fn a_missing_bucket_is_named_as_such() {
    let server = shared();
    let store = build(&config_for(server, "no-such-bucket-here", json!({})));
    let report = store.check().await;
    let error = report.error.expect("a missing bucket fails the check");
    assert_eq!(error.kind, ErrorKind::NotFound);
    assert!(
        error
            .message
            .contains("bucket `no-such-bucket-here` does not exist"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_missing_key_is_not_found_with_a_hint() {
    let (bucket, store) = bucket(json!({}));
    for operation in ["get", "head"] {
        let error = call(&store, operation, json!({"key": "nothing/here.txt"}))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound, "{operation}");
        assert!(
            error.message().contains("no object at `nothing/here.txt`"),
            "{error}"
        );
        assert!(error.message().contains(&bucket));
        assert!(error.hint().contains("list"));
    }
    let error = call(&store, "copy", json!({"from": "nothing.txt", "to": "b.txt"}))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_stopped_server_is_unreachable_and_retryable() {
    let server = S3Server::start().unwrap();
    let bucket = server.create_bucket().unwrap();
    let store = build(&config_for(&server, &bucket, json!({"max_retries": 0})));
    store.put("before.txt", Bytes::from("up"), None).await.unwrap();
    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let report = store.check().await;
    let error = report.error.expect("a stopped server fails the check");
    assert_eq!(error.kind, ErrorKind::Unreachable, "{error:?}");
    assert!(error.retryable);
    let error = store.get("before.txt", ByteRange::whole()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unreachable);
    assert!(error.hint().contains("endpoint"));
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let server = shared();
    let mut config = config_for(server, "b", json!({}));
    config["endpoint"] = json!(format!("http://127.0.0.1:{}", closed_port().unwrap()));
    let report = build(&config).check().await;
    assert_eq!(report.error.unwrap().kind, ErrorKind::Unreachable);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_within_the_bound() {
    let silent = SilentServer::start().await.unwrap();
    let server = shared();
    let mut config = config_for(
        server,
        "b",
        json!({"connect_timeout_seconds": 1, "request_timeout_seconds": 1, "max_retries": 0}),
    );
    config["endpoint"] = json!(format!("http://127.0.0.1:{}", silent.port()));
    let store = build(&config);
    let started = std::time::Instant::now();
    let report = store.check().await;
    assert_eq!(report.error.unwrap().kind, ErrorKind::Timeout);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the check is bounded"
    );
    let error = store.head("x.txt").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
}

#[tokio::test]
async fn plain_http_needs_allow_http() {
    let server = shared();
    let bucket = server.create_bucket().unwrap();
    let values = tributary_object_store::config::spec()
        .validate(&config_for(server, &bucket, json!({"allow_http": false})))
        .unwrap();
    let config = tributary_object_store::ObjectStoreConfig::from_values(&values).unwrap();
    let error = tributary_object_store::ObjectStoreConnector::new(config)
        .expect_err("http:// without allow_http is refused when the connector is built, before any request");
    assert_eq!(error.kind(), ErrorKind::InvalidConfig, "{error:?}");
    assert_eq!(error.fields()[0].field, "endpoint");
    assert!(error.fields()[0].message.contains("allow_http"), "{error:?}");
}

#[tokio::test]
async fn oversized_bodies_and_bad_parameters_are_refused_before_any_request() {
    let (_, store) = bucket(json!({"max_write_bytes": 10}));
    let error = call(
        &store,
        "put",
        json!({"key": "a.txt", "content": "more than ten bytes"}),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.message().contains("at most 10 bytes"));
    for (operation, params) in [
        ("get", json!({"key": "a.txt", "length": 0})),
        ("get", json!({"nope": 1})),
        ("list", json!({"page_size": 5000})),
        ("list", json!({"delimiter": "|"})),
        (
            "put",
            json!({"key": "a.txt", "content": "%%%", "encoding": "base64"}),
        ),
    ] {
        let error = call(&store, operation, params.clone()).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{operation} {params}");
    }
}
