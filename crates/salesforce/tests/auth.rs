//! Every OAuth grant against the test server, failed grants, the web-server flow with PKCE, and session
//! renewal under concurrency.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use common::{build, call, config_for, connector, records, server};
use serde_json::json;
use tributary_core::{Connector, ErrorKind};
use tributary_salesforce::auth::web_flow::AuthorizationRequest;

#[tokio::test]
async fn each_grant_signs_in_and_the_check_reports_the_org() {
    let server = server().await;
    for grant in ["password", "client_credentials", "refresh_token", "jwt_bearer"] {
        let org = build(&config_for(&server, grant, json!({})));
        let report = org.check().await;
        assert!(report.is_connected(), "{grant}: {report:?}");
        let details = &report.server.as_ref().unwrap().details;
        assert_eq!(details["org_id"], "00D000000000001AAA", "{grant}");
        assert_eq!(details["instance_url"], server.url());
        assert!(
            details["api_usage"].as_str().unwrap().ends_with("/5000"),
            "{details:?}"
        );
        assert!(report.latency_ms > 0.0);
    }
    assert_eq!(server.tokens_issued(), 4, "one token per grant");
}

#[tokio::test]
async fn failed_grants_carry_salesforces_own_description() {
    let server = server().await;
    let cases = [
        (
            "password",
            json!({"password": "wrong"}),
            ErrorKind::Authentication,
            "authentication failure",
        ),
        (
            "password",
            json!({"client_id": "3MVG9nobody"}),
            ErrorKind::InvalidConfig,
            "client identifier invalid",
        ),
        (
            "client_credentials",
            json!({"client_secret": "wrong"}),
            ErrorKind::InvalidConfig,
            "invalid client credentials",
        ),
        (
            "refresh_token",
            json!({"refresh_token": "5Aepstale"}),
            ErrorKind::Authentication,
            "expired access/refresh token",
        ),
        (
            "jwt_bearer",
            json!({"username": "someone-else@tributary.test"}),
            ErrorKind::Authentication,
            "user hasn't approved this consumer",
        ),
    ];
    for (grant, change, kind, description) in cases {
        let org = build(&config_for(&server, grant, change.clone()));
        let error = org.check().await.error.expect("a bad credential fails the check");
        assert_eq!(error.kind, kind, "{grant} {change}: {error:?}");
        assert!(error.message.contains(description), "{grant}: {}", error.message);
    }
}

#[tokio::test]
async fn a_jwt_signed_with_another_key_is_refused() {
    let server = server().await;
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .unwrap()
        .serialize_pem();
    let org = build(&config_for(&server, "jwt_bearer", json!({"private_key": other})));
    let error = org.check().await.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Authentication);
    assert!(error.message.contains("invalid assertion"));
    let garbage = build(&config_for(
        &server,
        "jwt_bearer",
        json!({"private_key": "not a key"}),
    ));
    assert_eq!(
        garbage.check().await.error.unwrap().kind,
        ErrorKind::InvalidConfig
    );
}

#[tokio::test]
async fn the_web_server_flow_with_pkce_yields_a_working_refresh_token() {
    let server = server().await;
    let client_id = &server.credentials().client_id;
    let redirect = "http://127.0.0.1:1/callback";
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The browser follows the authorize redirect; the server side trades the code through the guarded client.
    let guarded = tributary_http::HttpClient::new(
        &tributary_core::HostAccess::unrestricted(),
        tributary_http::HttpOptions::new("login_host", std::time::Duration::from_secs(5)).allow_http(true),
    )
    .unwrap();

    let request =
        AuthorizationRequest::new(server.url(), client_id, redirect, Some("api refresh_token")).unwrap();
    assert!(request.url.contains("code_challenge_method=S256") && request.url.contains("code_challenge="));
    let (code, state) = follow(&http, &request.url).await;
    assert_eq!(state, request.state);
    let secret = tributary_core::Secret::new(server.credentials().client_secret.clone());
    let tokens = request
        .exchange(&guarded, &code, &state, Some(&secret))
        .await
        .unwrap();
    let shown = format!("{tokens:?}");
    let refresh = tokens
        .refresh_token
        .expect("the web-server flow yields a refresh token");
    assert!(
        !shown.contains(refresh.expose()) && !shown.contains(tokens.access_token.expose()),
        "Debug hides the tokens"
    );

    let org = build(&config_for(
        &server,
        "refresh_token",
        json!({"refresh_token": refresh.expose()}),
    ));
    let output = call(&org, "soql_query", json!({"soql": "SELECT Id FROM Account"}))
        .await
        .unwrap();
    assert!(records(&output).is_empty());

    // A code traded with another authorization's verifier is refused; so is a forged state.
    let first = AuthorizationRequest::new(server.url(), client_id, redirect, None).unwrap();
    let second = AuthorizationRequest::new(server.url(), client_id, redirect, None).unwrap();
    let (code, _) = follow(&http, &first.url).await;
    let error = second
        .exchange(&guarded, &code, &second.state, Some(&secret))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert!(error.message().contains("invalid code verifier"));
    let error = first
        .exchange(&guarded, &code, "forged", Some(&secret))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied);
}

async fn follow(http: &reqwest::Client, url: &str) -> (String, String) {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let location = reqwest::Url::parse(&location).unwrap();
    let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    (pairs["code"].clone(), pairs["state"].clone())
}

#[tokio::test]
async fn an_expired_session_is_renewed_once_for_many_concurrent_callers() {
    let server = server().await;
    server.insert("Account", common::accounts(3)).unwrap();
    let org = connector(&server, json!({}));
    call(&org, "soql_query", json!({"soql": "SELECT Id FROM Account"}))
        .await
        .unwrap();
    assert_eq!(org.tokens_obtained(), 1);

    server.expire_tokens();
    let calls = (0..16).map(|_| {
        call(
            &org,
            "soql_query",
            json!({"soql": "SELECT Id, Name FROM Account"}),
        )
    });
    for output in futures_util::future::join_all(calls).await {
        assert_eq!(records(&output.unwrap()).len(), 3);
    }
    assert_eq!(
        org.tokens_obtained(),
        2,
        "sixteen callers saw the expiry; one renewal served them all"
    );
    assert_eq!(server.tokens_issued(), 2);
}

#[tokio::test]
async fn renewal_is_bounded_when_every_token_is_refused() {
    let server = server().await;
    server.set_token_lifetime(std::time::Duration::ZERO);
    let org = connector(&server, json!({}));
    let error = call(&org, "list_objects", json!({})).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert!(
        server.tokens_issued() <= 3,
        "{} tokens: renewals are bounded",
        server.tokens_issued()
    );
}
