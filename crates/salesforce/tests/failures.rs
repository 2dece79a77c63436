//! Every error mapping: Salesforce's error arrays and HTTP statuses to Tributary's kinds, with Salesforce's
//! own message kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{build, call, config_for, connector, server};
use serde_json::json;
use tributary_core::{Connector, ErrorKind};
use tributary_testkit::salesforce::Fault;

async fn ready() -> (
    tributary_testkit::SalesforceServer,
    tributary_salesforce::SalesforceConnector,
) {
    let server = server().await;
    let org = connector(&server, json!({"request_timeout_seconds": 1}));
    org.discover().await.unwrap();
    (server, org)
}

#[tokio::test]
async fn request_limit_is_rate_limited_and_not_retried_blindly() {
    let (server, org) = ready().await;
    server.inject(Fault::RequestLimit);
    let before = server.api_requests();
    let error = call(&org, "soql_query", json!({"soql": "SELECT Id FROM Account"}))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert!(error.message().contains("TotalRequests Limit exceeded."));
    assert!(!error.is_retryable());
    assert_eq!(server.api_requests() - before, 1, "one request, no retry");
}

#[tokio::test]
async fn server_errors_are_retryable() {
    let (server, org) = ready().await;
    server.inject(Fault::Unavailable);
    let error = call(&org, "soql_query", json!({"soql": "SELECT Id FROM Account"}))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unreachable);
    assert!(error.is_retryable());
    assert!(
        call(&org, "soql_query", json!({"soql": "SELECT Id FROM Account"}))
            .await
            .is_ok(),
        "the next call works"
    );
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let (server, org) = ready().await;
    server.inject(Fault::Delay(Duration::from_secs(3)));
    let error = call(&org, "soql_query", json!({"soql": "SELECT Id FROM Account"}))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(error.is_retryable());
}

#[tokio::test]
async fn bad_queries_keep_salesforces_message() {
    let (_server, org) = ready().await;
    let error = call(&org, "soql_query", json!({"soql": "SELECT Id Name FROM Account"}))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error.message().contains("MALFORMED_QUERY") && error.message().contains("unexpected token"),
        "{error}"
    );
    let error = call(
        &org,
        "soql_query",
        json!({"soql": "SELECT Id, Nope FROM Account"}),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error
            .message()
            .contains("INVALID_FIELD: No such column 'Nope' on entity 'Account'"),
        "{error}"
    );
    let error = call(&org, "soql_query", json!({"soql": "SELECT Id FROM Widget__c"}))
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::NotFound,
        "unknown objects are found missing while planning"
    );
}

#[tokio::test]
async fn a_missing_record_is_not_found() {
    let (_server, org) = ready().await;
    let error = call(
        &org,
        "get_record",
        json!({"object": "Account", "id": "001000000000999AAA"}),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(error.message().contains("NOT_FOUND"));
}

#[tokio::test]
async fn required_fields_are_named() {
    let (_server, org) = ready().await;
    let output = call(&org, "upsert_record", json!({"object": "Account", "external_id_field": "AccountNumber__c", "records": [{"AccountNumber__c": "Z-1", "Industry": "Energy"}]}))
        .await
        .unwrap();
    let tributary_core::Data::Write(summary) = &output.data else {
        panic!()
    };
    assert_eq!(summary.affected, 0);
    assert_eq!(summary.items[0]["errors"][0]["statusCode"], "invalid_input");
    assert!(
        summary.items[0]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("REQUIRED_FIELD_MISSING")
    );
}

#[tokio::test]
async fn an_unreachable_login_host_is_unreachable() {
    let server = server().await;
    let port = tributary_testkit::network::closed_port().unwrap();
    let org = build(&config_for(
        &server,
        "password",
        json!({"login_host": format!("http://127.0.0.1:{port}")}),
    ));
    let error = org.check().await.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Unreachable);
    assert!(error.retryable);
}
