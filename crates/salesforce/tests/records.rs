//! Record writes: create, update, delete, upsert, and collections with a partial failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{call, connector, server};
use serde_json::{Value, json};
use tributary_core::{Connector, Data, ErrorKind, Output, WriteSummary};

fn summary(output: &Output) -> &WriteSummary {
    match &output.data {
        Data::Write(summary) => summary,
        other => panic!("expected a write summary, got {other:?}"),
    }
}

#[tokio::test]
async fn create_update_get_delete() {
    let server = server().await;
    let org = connector(&server, json!({}));
    let created = call(
        &org,
        "create_record",
        json!({"object": "Contact", "records": [
            {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"},
            {"LastName": "Hopper"},
        ]}),
    )
    .await
    .unwrap();
    let created = summary(&created);
    assert_eq!(created.affected, 2);
    let id = created.items[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 18);

    let updated = call(
        &org,
        "update_record",
        json!({"object": "Contact", "records": [{"Id": id, "Phone": "+1 555 0100"}]}),
    )
    .await
    .unwrap();
    assert_eq!(summary(&updated).affected, 1);
    let record = org.get_record("Contact", &id, None).await.unwrap();
    assert_eq!(record["Phone"], "+1 555 0100");
    assert_eq!(record["LastName"], "Lovelace");

    let deleted = call(&org, "delete_record", json!({"object": "Contact", "ids": [id]}))
        .await
        .unwrap();
    assert_eq!(summary(&deleted).affected, 1);
    assert_eq!(
        org.get_record("Contact", &id, None).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(server.records("Contact").len(), 1);
}

#[tokio::test]
async fn upsert_creates_then_updates_by_external_id() {
    let server = server().await;
    let org = connector(&server, json!({}));
    let params = |name: &str| {
        json!({"object": "Account", "external_id_field": "accountnumber__c", "records": [
            {"AccountNumber__c": "A-100", "Name": name},
        ]})
    };
    let first = call(&org, "upsert_record", params("Acme")).await.unwrap();
    assert_eq!(summary(&first).items[0]["created"], true);
    let second = call(&org, "upsert_record", params("Acme Corp")).await.unwrap();
    assert_eq!(summary(&second).items[0]["created"], false);
    assert_eq!(summary(&second).items[0]["id"], summary(&first).items[0]["id"]);
    let stored = server.records("Account");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["Name"], "Acme Corp");
}

#[tokio::test]
async fn collections_go_200_at_a_time_and_report_each_record() {
    let server = server().await;
    let org = connector(&server, json!({}));
    let mut batch: Vec<Value> = (0..250)
        .map(|i| json!({"LastName": format!("Person {i}")}))
        .collect();
    batch[5] = json!({"FirstName": "No last name"});
    batch[230] = json!({"Email": "missing@example.com"});
    org.discover().await.unwrap();
    call(&org, "describe_object", json!({"object": "Contact"}))
        .await
        .unwrap();
    let before = server.api_requests();
    let output = call(
        &org,
        "create_record",
        json!({"object": "Contact", "records": batch}),
    )
    .await
    .unwrap();
    assert_eq!(
        server.api_requests() - before,
        2,
        "250 records in two collection requests"
    );
    let summary = summary(&output);
    assert_eq!(summary.affected, 248);
    assert_eq!(summary.items.len(), 250);
    for index in [5, 230] {
        let item = &summary.items[index];
        assert_eq!(item["index"], index);
        assert_eq!(item["success"], false);
        assert_eq!(item["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
        assert_eq!(item["errors"][0]["fields"], json!(["LastName"]));
    }
    assert_eq!(summary.items[6]["success"], true);
    assert_eq!(server.records("Contact").len(), 248);
}

#[tokio::test]
async fn writes_are_checked_before_anything_is_sent() {
    let server = server().await;
    let org = connector(&server, json!({}));
    for (operation, params) in [
        (
            "create_record",
            json!({"object": "Contact", "records": [{"NoSuchField__c": 1}]}),
        ),
        ("create_record", json!({"object": "Contact", "records": []})),
        (
            "update_record",
            json!({"object": "Contact", "records": [{"LastName": "x"}]}),
        ),
        (
            "delete_record",
            json!({"object": "Contact", "ids": ["not-an-id"]}),
        ),
        (
            "upsert_record",
            json!({"object": "Account", "external_id_field": "Nope__c", "records": [{"Name": "x"}]}),
        ),
        (
            "create_record",
            json!({"object": "Widget__c", "records": [{"Name": "x"}]}),
        ),
    ] {
        let error = call(&org, operation, params.clone()).await.unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::InvalidInput | ErrorKind::NotFound),
            "{operation} {params}: {error}"
        );
    }
    assert!(server.records("Contact").is_empty());

    let read_only = connector(&server, json!({"read_only": true}));
    let error = call(
        &read_only,
        "create_record",
        json!({"object": "Contact", "records": [{"LastName": "x"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied);
}
