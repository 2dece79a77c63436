//! SOQL injection through values and names, permission checks through every FROM, and secrets that never
//! appear in errors or `Debug` output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{accounts, build, call, call_within, config_for, connector, records, server};
use serde_json::json;
use tributary_core::{Connector, ErrorKind};
use tributary_salesforce::soql::Soql;

#[tokio::test]
async fn values_built_into_soql_cannot_change_the_query() {
    let server = server().await;
    server.insert("Account", accounts(5)).unwrap();
    let hostile = r"x' OR Name != 'y";
    server
        .insert(
            "Account",
            vec![json!({"Name": hostile}).as_object().cloned().unwrap()],
        )
        .unwrap();
    let backslash = r"C:\temp\'; DROP";
    server
        .insert(
            "Account",
            vec![json!({"Name": backslash}).as_object().cloned().unwrap()],
        )
        .unwrap();
    let org = connector(&server, json!({}));
    for name in [hostile, backslash, "Account 0001"] {
        let soql = Soql::select(&["Id", "Name"], "Account")
            .unwrap()
            .where_eq("Name", &json!(name))
            .unwrap()
            .build();
        let output = org.query(&soql, None).await.unwrap();
        let rows = records(&output);
        assert_eq!(rows.len(), 1, "{soql}");
        assert_eq!(rows[0]["Name"], name);
    }
    // The same through the connector, with the names checked against describe.
    let output = org
        .find("account", &["id", "NAME"], &[("name", json!(hostile))], None)
        .await
        .unwrap();
    assert_eq!(records(&output).len(), 1);
    assert_eq!(records(&output)[0]["Name"], hostile);
    for (fields, field) in [(["Nope"], "Name"), (["Id"], "Name = 'x' OR Id"), (["Id"], "Nope")] {
        let error = org
            .find("Account", &fields, &[(field, json!("x"))], None)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{fields:?} {field}");
    }
    assert!(Soql::select(&["Id"], "Account WHERE Name != ''").is_err());
    assert!(Soql::select(&["Id FROM Contact --"], "Account").is_err());
}

#[tokio::test]
async fn every_from_is_checked_against_the_policy() {
    let server = server().await;
    server.insert("Account", accounts(2)).unwrap();
    let org = connector(&server, json!({}));
    let allowed = ["Account"];
    let ok = call_within(
        &org,
        &allowed,
        "soql_query",
        json!({"soql": "SELECT Id FROM Account WHERE Name = 'FROM Contact'"}),
    )
    .await;
    assert!(ok.is_ok(), "a FROM inside a string literal is not a FROM: {ok:?}");
    for soql in [
        "SELECT Id FROM Contact",
        "select id from contact",
        "SELECT Id, (SELECT LastName FROM Contacts) FROM Account",
        "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)",
        "SELECT Id, (SELECT Name FROM Opportunities) FROM Account",
        "SELECT Id, Owner.Name FROM Account",
        "SELECT a.Id, a.Owner.Email FROM Account a",
    ] {
        let error = call_within(&org, &allowed, "soql_query", json!({"soql": soql}))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{soql}: {error}");
    }
    for (operation, params) in [
        (
            "get_record",
            json!({"object": "Contact", "id": "003000000000001AAA"}),
        ),
        ("describe_object", json!({"object": "User"})),
        (
            "create_record",
            json!({"object": "Contact", "records": [{"LastName": "x"}]}),
        ),
    ] {
        let error = call_within(&org, &allowed, operation, params).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{operation}");
    }
}

#[tokio::test]
async fn names_are_checked_before_they_reach_a_url_or_query() {
    let server = server().await;
    let org = connector(&server, json!({}));
    for (operation, params) in [
        (
            "get_record",
            json!({"object": "Account/../Contact", "id": "001000000000001AAA"}),
        ),
        (
            "get_record",
            json!({"object": "Account", "id": "001000000000001AAA/../../limits"}),
        ),
        (
            "get_record",
            json!({"object": "Account", "id": "001000000000001AAA", "fields": ["Name,(SELECT Id FROM Contacts)"]}),
        ),
        ("describe_object", json!({"object": "Account WHERE"})),
        (
            "create_record",
            json!({"object": "Account", "records": [{"Name'": "x"}]}),
        ),
        ("soql_query", json!({"soql": "DELETE FROM Account"})),
        (
            "soql_query",
            json!({"soql": "SELECT Id FROM Account WHERE Name = 'unterminated"}),
        ),
    ] {
        let error = call(&org, operation, params.clone()).await.unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::InvalidInput | ErrorKind::NotFound),
            "{operation} {params}: {error}"
        );
    }
}

#[tokio::test]
async fn no_token_or_secret_appears_in_errors_or_debug_output() {
    let server = server().await;
    let c = server.credentials().clone();
    let secrets = [
        c.client_secret.as_str(),
        c.password.as_str(),
        c.security_token.as_str(),
        c.refresh_token.as_str(),
        "00D000000000001!",
    ];

    let good = connector(&server, json!({}));
    good.check().await;
    let bad = build(&config_for(
        &server,
        "password",
        json!({"password": format!("{}-wrong", c.password)}),
    ));
    let refresh = build(&config_for(
        &server,
        "refresh_token",
        json!({"refresh_token": format!("{}x", c.refresh_token)}),
    ));
    let jwt = build(&config_for(
        &server,
        "jwt_bearer",
        json!({"private_key": c.private_key_pem.replacen("MII", "MIJ", 1)}),
    ));
    let mut shown = format!("{good:?} {bad:?} {refresh:?} {jwt:?}");
    for org in [&bad, &refresh, &jwt] {
        let report = org.check().await;
        shown.push_str(&format!("{report:?} {}", serde_json::to_string(&report).unwrap()));
        let error = call(org, "soql_query", json!({"soql": "SELECT Id FROM Account"}))
            .await
            .unwrap_err();
        shown.push_str(&format!("{error} {error:?} {:?}", error.report()));
    }
    server.inject(tributary_testkit::salesforce::Fault::Unavailable);
    let error = call(&good, "soql_query", json!({"soql": "SELECT Id FROM Account"}))
        .await
        .unwrap_err();
    shown.push_str(&format!("{error:?}"));
    let values = tributary_salesforce::config::spec()
        .validate(&config_for(&server, "password", json!({})))
        .unwrap();
    shown.push_str(&format!(
        "{values:?} {:?}",
        tributary_salesforce::SalesforceConfig::from_values(&values).unwrap()
    ));
    for secret in secrets {
        assert!(!shown.contains(secret), "`{secret}` leaked into: {shown}");
    }
    let key_line = c.private_key_pem.lines().nth(1).unwrap();
    assert!(!shown.contains(key_line), "the private key leaked");
}

#[tokio::test]
async fn a_token_response_that_names_another_host_is_refused_before_anything_goes_there() {
    let server = server().await;
    let elsewhere = tributary_testkit::network::Recorder::on("127.0.0.2".parse().unwrap(), Vec::new())
        .await
        .unwrap();
    for instance in [
        format!("http://127.0.0.2:{}", elsewhere.port()),
        "https://evil.example.net".to_owned(),
    ] {
        server.set_instance_url(Some(&instance));
        let org = connector(&server, json!({}));
        let report = org.check().await;
        let error = report.error.expect("the sign-in is refused");
        assert_eq!(error.kind, ErrorKind::Authentication, "{instance}: {error:?}");
        assert!(error.message.contains("not a Salesforce domain"), "{error:?}");
        let error = call(&org, "soql_query", json!({"soql": "SELECT Id FROM Account"}))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Authentication);
    }
    assert_eq!(
        elsewhere.accepted(),
        0,
        "no request, bearer token included, went to the other host"
    );
    server.set_instance_url(None);
    assert!(connector(&server, json!({})).check().await.is_connected());
}

#[tokio::test]
async fn a_tenant_connector_reaches_no_loopback_login_host_and_no_plain_http() {
    use tributary_core::{HostAccess, ProtectedPaths, TenantPolicy};
    use tributary_salesforce::{SalesforceConfig, SalesforceConnector, config};

    let server = server().await;
    let values = config::spec()
        .validate(&config_for(&server, "password", json!({})))
        .unwrap();
    let strict = HostAccess::tenant(&TenantPolicy::default(), ProtectedPaths::new()).unwrap();
    let error = SalesforceConnector::with_host(SalesforceConfig::from_values(&values).unwrap(), &strict)
        .expect_err("plain http is refused to tenants");
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    assert_eq!(error.fields()[0].field, "allow_http");
    let plaintext = HostAccess::tenant(
        &TenantPolicy {
            allow_plaintext: true,
            ..TenantPolicy::default()
        },
        ProtectedPaths::new(),
    )
    .unwrap();
    let error = SalesforceConnector::with_host(SalesforceConfig::from_values(&values).unwrap(), &plaintext)
        .expect_err("a loopback login host is refused to tenants");
    assert_eq!(error.fields()[0].field, "login_host");
    assert!(error.fields()[0].message.contains("loopback"), "{error:?}");
    let allowed = HostAccess::tenant(
        &TenantPolicy {
            allow_plaintext: true,
            allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
            ..TenantPolicy::default()
        },
        ProtectedPaths::new(),
    )
    .unwrap();
    let org =
        SalesforceConnector::with_host(SalesforceConfig::from_values(&values).unwrap(), &allowed).unwrap();
    assert!(
        org.check().await.is_connected(),
        "an operator's explicit exception works"
    );
}
