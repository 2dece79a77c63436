//! Queries, paging, truncation at the row limit, relationships, describe and discovery.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{accounts, call, connector, records, server};
use serde_json::{Map, Value, json};
use tributary_core::{Connector, Data, OperationRequest, TruncationReason};

#[tokio::test]
async fn a_query_pages_across_several_batches() {
    let server = server().await;
    server.insert("Account", accounts(450)).unwrap();
    server.set_batch_cap(100);
    let org = connector(&server, json!({"max_rows": 1000}));
    let before = server.api_requests();
    let output = call(
        &org,
        "soql_query",
        json!({"soql": "SELECT Id, Name FROM Account ORDER BY Name", "max_rows": 1000}),
    )
    .await
    .unwrap();
    let rows = records(&output);
    assert_eq!(rows.len(), 450);
    assert!(!output.is_truncated());
    assert_eq!(rows[0]["Name"], "Account 0000");
    assert_eq!(rows[449]["Name"], "Account 0449");
    let ids: std::collections::HashSet<_> = rows.iter().map(|row| row["Id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 450, "every record once");
    // describeGlobal (first use) + 5 pages of 100.
    assert_eq!(server.api_requests() - before, 6);
}

#[tokio::test]
async fn the_row_limit_cuts_and_says_how_much_was_left() {
    let server = server().await;
    server.insert("Account", accounts(450)).unwrap();
    server.set_batch_cap(100);
    let org = connector(&server, json!({}));
    let output = call(
        &org,
        "soql_query",
        json!({"soql": "SELECT Id FROM Account", "max_rows": 120}),
    )
    .await
    .unwrap();
    assert_eq!(records(&output).len(), 120);
    let truncation = output.truncation.unwrap();
    assert_eq!(truncation.reason, TruncationReason::RowLimit);
    assert_eq!(
        (truncation.limit, truncation.returned, truncation.omitted),
        (120, 120, Some(330))
    );
    // Over the connector's maximum is refused, not silently lowered.
    let error = call(
        &org,
        "soql_query",
        json!({"soql": "SELECT Id FROM Account", "max_rows": 1_000_000}),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), tributary_core::ErrorKind::InvalidInput);
}

fn one(value: Value) -> Vec<Map<String, Value>> {
    vec![value.as_object().cloned().unwrap()]
}

#[tokio::test]
async fn subqueries_and_parent_fields_are_read_and_checked() {
    let server = server().await;
    let acme = server
        .insert("Account", one(json!({"Name": "Acme", "Industry": "Energy"})))
        .unwrap()
        .remove(0);
    server
        .insert("Contact", one(json!({"LastName": "Lovelace", "AccountId": acme})))
        .unwrap();
    server
        .insert("Contact", one(json!({"LastName": "Hopper", "AccountId": acme})))
        .unwrap();
    let org = connector(&server, json!({}));
    let soql =
        "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account WHERE Name = 'Acme'";
    let plan = org
        .plan(OperationRequest::new("soql_query", json!({"soql": soql})))
        .await
        .unwrap();
    let objects: Vec<&str> = plan.access().objects.iter().map(String::as_str).collect();
    assert_eq!(
        objects,
        ["Account", "Contact"],
        "the subquery's relationship resolves to its object"
    );
    let output = org.execute(plan).await.unwrap();
    let contacts = &records(&output)[0]["Contacts"]["records"];
    assert_eq!(contacts[0]["LastName"], "Hopper");
    assert_eq!(contacts[1]["LastName"], "Lovelace");

    let output = call(
        &org,
        "soql_query",
        json!({"soql": "SELECT LastName, Account.Name FROM Contact WHERE LastName = 'Hopper'"}),
    )
    .await
    .unwrap();
    assert_eq!(records(&output)[0]["Account"]["Name"], "Acme");
    let plan = org
        .plan(OperationRequest::new(
            "soql_query",
            json!({"soql": "SELECT LastName, Account.Owner.Name FROM Contact"}),
        ))
        .await
        .unwrap();
    let objects: Vec<&str> = plan.access().objects.iter().map(String::as_str).collect();
    assert_eq!(
        objects,
        ["Account", "Contact", "User"],
        "parent paths read their targets"
    );
}

#[tokio::test]
async fn records_describe_and_discovery() {
    let server = server().await;
    let id = server
        .insert("Account", one(json!({"Name": "Acme", "Industry": "Energy"})))
        .unwrap()
        .remove(0);
    let org = connector(&server, json!({}));

    let output = call(
        &org,
        "get_record",
        json!({"object": "account", "id": id, "fields": ["Name"]}),
    )
    .await
    .unwrap();
    let Data::Document { document } = &output.data else {
        panic!()
    };
    assert_eq!(document["Name"], "Acme");
    assert!(document.get("Industry").is_none(), "only the fields asked for");

    let output = call(&org, "describe_object", json!({"object": "Account"}))
        .await
        .unwrap();
    let Data::Object(info) = &output.data else {
        panic!()
    };
    let industry = info.field("Industry").unwrap();
    assert_eq!(industry.data_type, tributary_core::DataType::Enum);
    assert_eq!(industry.allowed_values, ["Energy", "Technology", "Banking"]);
    assert!(!info.field("Name").unwrap().nullable);
    assert_eq!(
        info.field("OwnerId").unwrap().data_type,
        tributary_core::DataType::Reference
    );
    assert!(
        info.foreign_keys
            .iter()
            .any(|fk| fk.fields == ["OwnerId"] && fk.references == "User")
    );

    let catalog = org.discover().await.unwrap();
    let names: Vec<&str> = catalog.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["Account", "Contact", "Opportunity", "User"]);
    assert!(
        catalog.objects[0]
            .description
            .as_deref()
            .unwrap()
            .contains("queryable")
    );

    // Describe results are cached: asking again makes no request.
    let before = server.api_requests();
    call(&org, "describe_object", json!({"object": "Account"}))
        .await
        .unwrap();
    org.discover().await.unwrap();
    assert_eq!(server.api_requests(), before);
}

#[tokio::test]
async fn the_describe_cache_expires() {
    let server = server().await;
    let org = connector(&server, json!({"describe_cache_seconds": 0}));
    org.discover().await.unwrap();
    let before = server.api_requests();
    org.discover().await.unwrap();
    assert_eq!(
        server.api_requests(),
        before + 1,
        "with no cache time, every discovery asks again"
    );
}

#[tokio::test]
async fn paging_stops_at_the_hosts_byte_budget() {
    let server = server().await;
    server.insert("Account", accounts(450)).unwrap();
    server.set_batch_cap(100);
    let org = connector(&server, json!({"max_rows": 1000}));
    let policy = tributary_core::AccessPolicy::new(
        [tributary_core::AccessClass::Read],
        tributary_core::ObjectRules::Any,
    );
    // Warm the describe cache so only query pages are counted.
    call(
        &org,
        "soql_query",
        json!({"soql": "SELECT Id FROM Account", "max_rows": 1}),
    )
    .await
    .unwrap();
    let before = server.api_requests();
    let budget = tributary_core::Budget {
        max_rows: None,
        max_bytes: Some(12_000),
    };
    let output = org
        .call(
            OperationRequest::new(
                "soql_query",
                json!({"soql": "SELECT Id, Name FROM Account ORDER BY Name", "max_rows": 1000}),
            )
            .with_budget(budget),
            &policy,
        )
        .await
        .unwrap();
    let kept = records(&output).len();
    let size = serde_json::to_vec(&records(&output)).unwrap().len();
    assert!(kept > 0 && kept < 450, "{kept} records");
    assert!(size <= 12_000, "{size} bytes kept over a budget of 12000");
    let truncation = output.truncation.clone().expect("cut by the budget");
    assert_eq!(truncation.reason, TruncationReason::ByteLimit);
    assert_eq!(truncation.omitted, Some(450 - kept as u64));
    let pages = server.api_requests() - before;
    assert_eq!(
        pages,
        kept.div_ceil(100) as u64 + u64::from(kept.is_multiple_of(100)),
        "no page is fetched past the one that spent the budget"
    );
}

#[tokio::test]
async fn an_answer_larger_than_a_connector_reads_is_refused_as_it_arrives() {
    let server = server().await;
    server.insert("Account", accounts(3)).unwrap();
    let org = connector(&server, json!({}));
    call(&org, "soql_query", json!({"soql": "SELECT Id FROM Account"}))
        .await
        .unwrap();
    server.inject(tributary_testkit::salesforce::Fault::Endless(256 * 1024 * 1024));
    let error = call(&org, "soql_query", json!({"soql": "SELECT Id FROM Account"}))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), tributary_core::ErrorKind::InvalidInput, "{error}");
    assert!(error.message().contains("stopped reading"), "{error}");
    assert!(!error.is_retryable());
    let sent = server.endless_bytes_sent();
    assert!(
        sent < 64 * 1024 * 1024,
        "the server got {sent} bytes of a 256 MiB answer out before the connector stopped"
    );
}
