//! The web console in a real browser (headless Chromium over WebDriver) against a running server with a
//! real PostgreSQL, plus the console's security properties checked over plain HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[path = "common/browser.rs"]
mod browser;
mod common;

use browser::Browser;
use fantoccini::Locator;
use tributary_testkit::postgres;

/// The administrator's whole path: sign in, create a PostgreSQL connector through the wizard (a wrong
/// password first), browse its schema, grant it to an agent, see the agent's tools, find the test in
/// the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_connects_postgres_and_grants_it_to_an_agent() {
    // The tenant's PostgreSQL is the throwaway server on 127.0.0.1: the policy says so explicitly.
    let served = common::served_with(|_| common::loopback_policy(Vec::new())).await;
    let server = postgres().await.unwrap();
    let database = server.create_database().await.unwrap();
    server
        .connect(&database)
        .await
        .unwrap()
        .batch_execute(
            "CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL, name text);
             INSERT INTO customers (email, name) VALUES ('ada@example.com', 'Ada');",
        )
        .await
        .unwrap();
    let browser = Browser::start().await;
    let base = served.url.as_str();

    browser.client.goto(&format!("{base}/")).await.unwrap();
    browser.wait_for_path("/sign-in").await;
    browser.screenshot("sign-in").await;
    browser.fill("token", "trb_not-a-real-token").await;
    browser
        .click("form[action=\"/sign-in\"] button[type=submit]")
        .await;
    browser
        .wait_for_text("[role=alert]", "not a valid admin token")
        .await;
    browser.fill("token", &served.admin).await;
    browser
        .click("form[action=\"/sign-in\"] button[type=submit]")
        .await;
    browser.wait_for_path("/connectors").await;
    browser.wait_for_text("table", "shop").await;

    // The wizard, with a wrong password first.
    browser
        .client
        .goto(&format!("{base}/connectors/new"))
        .await
        .unwrap();
    browser.screenshot("new-connector").await;
    browser
        .client
        .find(Locator::LinkText("PostgreSQL"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_path("/connectors/new/postgresql").await;
    browser.fill("name", "crm").await;
    browser.fill("config.host", server.host()).await;
    browser.fill("config.port", &server.port().to_string()).await;
    browser.fill("config.database", &database).await;
    browser.fill("config.user", server.user()).await;
    browser.fill("config.password", "certainly-wrong").await;
    browser.select("config.tls_mode", "disable").await;
    browser.click("#test-connection").await;
    let failed = browser.wait_for_text("#test-result", "Could not connect").await;
    assert!(
        failed.contains("authentication"),
        "the error is classified: {failed}"
    );
    assert!(
        !browser.source().await.contains("certainly-wrong"),
        "the password is not shown back"
    );
    browser.screenshot("wizard-wrong-password").await;

    browser.fill("config.password", server.password()).await;
    browser.click("#test-connection").await;
    let connected = browser.wait_for_text("#test-result", "Connected").await;
    assert!(
        connected.contains("PostgreSQL"),
        "the report names the server: {connected}"
    );
    browser.screenshot("wizard-connected").await;

    browser.fill("policy.objects", "public.customers").await;
    browser.click("#save-connector").await;
    let path = browser.wait_for_path("/connectors/con_").await;
    let connector_id = path.trim_start_matches("/connectors/").to_owned();
    browser
        .wait_for_text("[role=status]", "Connector saved and tested.")
        .await;
    browser.wait_for_text("#test-result", "Connected").await;
    assert!(
        !browser.source().await.contains(server.password()),
        "the saved password never reaches the page"
    );
    browser.screenshot("connector-detail").await;

    // The live test button on the detail page goes through the REST API with the session cookie.
    browser.click("[data-test-connector]").await;
    browser.wait_for_text("#test-result", "Connected").await;

    // Schema browser.
    browser.click("a[href$=\"/schema\"]").await;
    browser
        .wait_for_path(&format!("/connectors/{connector_id}/schema"))
        .await;
    browser.click("ul.objects summary").await;
    let object = browser.wait_for_text("ul.objects li", "email").await;
    assert!(object.contains("customers"), "{object}");
    browser.screenshot("schema").await;

    // An agent, granted the connector, and its tools.
    browser.client.goto(&format!("{base}/agents")).await.unwrap();
    browser.fill("id", "crm-bot").await;
    browser.fill("name", "CRM assistant").await;
    browser
        .click("form[action=\"/agents\"] button[type=submit]")
        .await;
    browser.wait_for_path("/agents/crm-bot").await;
    browser.select("connector", &connector_id).await;
    browser.click("#grant-form button[type=submit]").await;
    browser.wait_for_text("[role=status]", "Grant saved").await;
    let tools = browser.wait_for_text("ul.tools", "crm_query").await;
    assert!(tools.contains("read-only"), "{tools}");
    assert!(
        !tools.contains("shop_"),
        "only the granted connector's tools: {tools}"
    );
    browser.screenshot("agent").await;

    // A token for the agent, shown once, that authenticates as the agent.
    browser.click("#issue-token").await;
    browser.wait_for_path("/agents/crm-bot/tokens").await;
    let token = browser.wait_for_text("#issued-token", "trb_").await;
    assert_eq!(
        served.registry.authenticate(token.trim()).await.unwrap(),
        tributary_registry::Principal::Agent {
            organization: "demo".into(),
            agent: "crm-bot".into()
        }
    );

    // The list shows the new connector with its status and agent.
    browser
        .client
        .goto(&format!("{base}/connectors?type=postgresql"))
        .await
        .unwrap();
    let row = browser.wait_for_text("tbody tr", "crm").await;
    assert!(row.contains("connected") && row.contains("crm-bot"), "{row}");
    assert!(
        !browser.source().await.contains(">shop<"),
        "the type filter hides the SQLite demo"
    );
    browser.client.goto(&format!("{base}/connectors")).await.unwrap();
    browser.wait_for_text("tbody", "crm").await;
    browser.screenshot("connectors").await;
    // A phone-sized window gets one column and the same content.
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("tbody", "crm").await;
    browser.screenshot("connectors-phone").await;
    browser.client.set_window_size(1280, 1000).await.unwrap();

    // The audit log, filtered to the connector, has the tests.
    browser.client.goto(&format!("{base}/audit")).await.unwrap();
    browser.select("connector", &connector_id).await;
    browser.select("outcome", "ok").await;
    browser.click("form.filters button[type=submit]").await;
    let audit = browser.wait_for_text("table.audit", "test_connection").await;
    assert!(audit.contains("crm") && audit.contains("admin"), "{audit}");
    browser.screenshot("audit").await;

    let stored = served.registry.connector("demo", &connector_id).await.unwrap();
    assert_eq!(stored.config["password"], serde_json::json!({"set": true}));
    assert_eq!(stored.grants.len(), 1);
    browser.finish().await;
}

/// "Connect with Salesforce": the OAuth web-server flow with PKCE, through the project's Salesforce test
/// server, ends with a saved connector holding a refresh token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_with_salesforce_saves_a_connector_with_a_refresh_token() {
    // The Salesforce test server listens on 127.0.0.1 over plain HTTP: the policy says so explicitly.
    let served = common::served_with(|_| common::loopback_policy(Vec::new())).await;
    let salesforce = tributary_testkit::SalesforceServer::start().await.unwrap();
    let browser = Browser::start().await;
    let base = served.url.as_str();
    browser.sign_in(base, &served.admin).await;
    browser
        .client
        .goto(&format!("{base}/connectors/new/salesforce"))
        .await
        .unwrap();
    browser.fill("name", "sales").await;
    browser.fill("config.login_host", salesforce.url()).await;
    browser.select("config.allow_http", "true").await;
    browser
        .fill("config.client_id", &salesforce.credentials().client_id)
        .await;
    browser
        .fill("config.client_secret", &salesforce.credentials().client_secret)
        .await;
    browser.screenshot("salesforce-wizard").await;
    browser.click("#connect-salesforce").await;
    let path = browser.wait_for_path("/connectors/con_").await;
    browser
        .wait_for_text("[role=status]", "Connected with Salesforce")
        .await;
    browser.wait_for_text("#test-result", "Connected").await;
    let id = path.trim_start_matches("/connectors/");
    let stored = served.registry.connector("demo", id).await.unwrap();
    assert_eq!(stored.config["grant"], "refresh_token");
    assert_eq!(stored.config["refresh_token"], serde_json::json!({"set": true}));
    browser.finish().await;
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts a form with a cookie, as a browser would.
async fn post_form(
    client: &reqwest::Client,
    url: String,
    cookie: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(url)
        .header("cookie", cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect()
}

/// Signs in over plain HTTP and returns the session cookie pair.
async fn signed_in(client: &reqwest::Client, base: &str, token: &str) -> String {
    let page = client.get(format!("{base}/sign-in")).send().await.unwrap();
    let nonce_cookie = set_cookies(&page)[0].split(';').next().unwrap().to_owned();
    let nonce = nonce_cookie.split_once('=').unwrap().1.to_owned();
    let response = post_form(
        client,
        format!("{base}/sign-in"),
        &nonce_cookie,
        &[("token", token), ("nonce", nonce.as_str()), ("next", "")],
    )
    .await;
    assert_eq!(response.status(), 303);
    let session = set_cookies(&response)
        .into_iter()
        .find(|cookie| cookie.starts_with("tributary_session="))
        .unwrap();
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(flag), "the session cookie is {flag}: {session}");
    }
    session.split(';').next().unwrap().to_owned()
}

fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf-token\" content=\"").unwrap() + "name=\"csrf-token\" content=\"".len();
    html[start..start + 64].to_owned()
}

/// Sign-in, CSRF, cookies, the CSP and secret handling, checked over plain HTTP.
#[tokio::test]
async fn the_console_refuses_forged_requests_and_never_echoes_secrets() {
    let served = common::served().await;
    let base = served.url.as_str();
    let client = http();

    // Not signed in: pages send you to sign in, and come back afterwards.
    let response = client.get(format!("{base}/agents")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/sign-in?next=/agents");

    // Unknown paths get a page, with the same headers.
    let response = client.get(format!("{base}/no-such-page")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.headers().contains_key("content-security-policy"));
    assert!(response.text().await.unwrap().contains("Page not found"));

    // The sign-in form needs its own cookie: a form posted from another site has none.
    let forged = client
        .post(format!("{base}/sign-in"))
        .form(&[("token", served.admin.as_str()), ("nonce", "guess"), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(
        set_cookies(&forged)
            .iter()
            .all(|cookie| !cookie.starts_with("tributary_session="))
    );

    // Agent tokens and wrong tokens cannot sign in.
    let page = client.get(format!("{base}/sign-in")).send().await.unwrap();
    let nonce_cookie = set_cookies(&page)[0].split(';').next().unwrap().to_owned();
    let nonce = nonce_cookie.split_once('=').unwrap().1.to_owned();
    for (token, status) in [(served.agent.as_str(), 403), ("trb_wrong", 401)] {
        let response = post_form(
            &client,
            format!("{base}/sign-in"),
            &nonce_cookie,
            &[("token", token), ("nonce", nonce.as_str()), ("next", "")],
        )
        .await;
        assert_eq!(response.status(), status, "{token}");
    }

    // After signing in, `next` never leads off this site.
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\t/evil.example",
        "/agents",
    ] {
        let response = post_form(
            &client,
            format!("{base}/sign-in"),
            &nonce_cookie,
            &[
                ("token", served.admin.as_str()),
                ("nonce", nonce.as_str()),
                ("next", next),
            ],
        )
        .await;
        let expected = if next == "/agents" {
            "/agents"
        } else {
            "/connectors"
        };
        assert_eq!(response.headers()["location"], expected, "next {next:?}");
    }

    // A signed-in page: strict CSP, no inline script or handler, and a CSRF token.
    let session = signed_in(&client, base, &served.admin).await;
    let response = client
        .get(format!("{base}/connectors/new/postgresql"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let html = response.text().await.unwrap();
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=").count(),
        "no inline script"
    );
    for handler in [" onclick=", " onsubmit=", " onload=", " style="] {
        assert!(!html.contains(handler), "no inline {handler}");
    }
    let csrf = csrf_of(&html);

    // A form without the session's CSRF token changes nothing.
    for token in ["", "00", csrf.as_str()] {
        let response = post_form(
            &client,
            format!("{base}/agents"),
            &session,
            &[("csrf", token), ("id", "forged-bot"), ("name", "x")],
        )
        .await;
        if token == csrf {
            assert_eq!(response.status(), 303, "the real token is accepted");
        } else {
            assert_eq!(response.status(), 403, "token {token:?} is refused");
            assert!(
                served
                    .registry
                    .agents("demo")
                    .await
                    .unwrap()
                    .iter()
                    .all(|agent| agent.id != "forged-bot"),
                "a refused form creates nothing"
            );
        }
    }

    // The REST API takes the session cookie only with the CSRF header.
    let body = serde_json::json!({"connector_type": "sqlite", "config": {"path": ":memory:"}});
    let without = client
        .post(format!("{base}/api/v1/connectors/test"))
        .header("cookie", &session)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 403);
    let with = client
        .post(format!("{base}/api/v1/connectors/test"))
        .header("cookie", &session)
        .header("x-csrf-token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 200, "{}", with.text().await.unwrap());

    // Without scripts, "Test connection" posts the form: field errors come back next to their inputs,
    // typed values are kept, and the secret is not sent back.
    let response = post_form(
        &client,
        format!("{base}/connectors/new/postgresql"),
        &session,
        &[
            ("csrf", csrf.as_str()),
            ("action", "test"),
            ("name", "typed-name"),
            ("config.host", "127.0.0.1"),
            ("config.port", "99999"),
            ("config.password", "hunter2-secret-value"),
            ("policy.operations", "read"),
        ],
    )
    .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("must be at most 65535"),
        "the port's error is shown"
    );
    assert!(html.contains("id=\"error-f-config.port\" data-field=\"config.port\">must be at most 65535"));
    assert!(html.contains("value=\"typed-name\""), "typed values are kept");
    assert!(!html.contains("hunter2-secret-value"), "the secret is not echoed");

    // Saving with a bad policy keeps the connector unsaved and says which setting is wrong.
    let response = post_form(
        &client,
        format!("{base}/connectors/new/sqlite"),
        &session,
        &[
            ("csrf", csrf.as_str()),
            ("action", "save"),
            ("name", "scratch"),
            ("config.path", ":memory:"),
            ("policy.cache_ttl_seconds", "soon"),
        ],
    )
    .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("allow at least one class of operation"));
    assert!(html.contains("must be a whole number of seconds"));
    assert!(
        served
            .registry
            .connectors("demo")
            .await
            .unwrap()
            .iter()
            .all(|c| c.name != "scratch"),
        "nothing was saved"
    );

    // A taken name is shown next to the name input (the registry reports it as a field error).
    let response = post_form(
        &client,
        format!("{base}/connectors/new/sqlite"),
        &session,
        &[
            ("csrf", csrf.as_str()),
            ("action", "save"),
            ("name", "shop"),
            ("config.path", ":memory:"),
            ("policy.operations", "read"),
        ],
    )
    .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("id=\"error-f-name\" data-field=\"name\">is taken by another connector"),
        "the name's error is next to the name"
    );

    // Another organization's connector is not found, not shown.
    let other = served
        .registry
        .create_connector(
            "globex",
            tributary_registry::NewConnector {
                name: "theirs".into(),
                connector_type: "sqlite".into(),
                config: serde_json::json!({"path": ":memory:"}),
                governance: tributary_registry::Governance::default(),
            },
            tributary_registry::Origin::Operator,
        )
        .await
        .unwrap();
    let response = client
        .get(format!("{base}/connectors/{}", other.id))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(!response.text().await.unwrap().contains("theirs"));

    // Signing out ends the session cookie.
    let response = post_form(
        &client,
        format!("{base}/sign-out"),
        &session,
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert!(
        set_cookies(&response)
            .iter()
            .any(|cookie| cookie.starts_with("tributary_session=;") && cookie.contains("Max-Age=0"))
    );
    // ... and on the server: the old cookie, replayed, is signed out.
    let response = client
        .get(format!("{base}/agents"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "a signed-out session stays ended");
}

/// Console sessions are server-side: the cookie holds a session id, never the admin token, and revoking
/// the token on the tokens page ends every session opened with it.
#[tokio::test]
async fn console_sessions_hold_no_token_and_end_when_it_is_revoked() {
    let served = common::served().await;
    let base = served.url.as_str();
    let client = http();
    let token = served
        .registry
        .issue_token(
            tributary_registry::Principal::Admin {
                organization: "demo".into(),
            },
            "browser",
        )
        .await
        .unwrap();
    let first = signed_in(&client, base, &token).await;
    let second = signed_in(&client, base, &token).await;
    assert!(!first.contains(&token) && !second.contains(&token), "{first}");
    assert_ne!(first, second, "each sign-in is its own session");

    let page = client
        .get(format!("{base}/tokens"))
        .header("cookie", &first)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("browser") && !html.contains(&token),
        "names, never values"
    );
    let id = served
        .registry
        .tokens(Some("demo"))
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "browser")
        .unwrap()
        .id;
    assert!(html.contains(&id));
    let csrf = csrf_of(&html);
    let response = post_form(
        &client,
        format!("{base}/tokens/{id}/revoke"),
        &first,
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(response.status(), 303);
    for session in [&first, &second] {
        let response = client
            .get(format!("{base}/agents"))
            .header("cookie", session)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "revoking the token ended the session");
    }
}

/// Every visible input of every page has a label, so screen readers and voice control can name it.
fn unlabelled_inputs(html: &str) -> Vec<String> {
    let mut missing = Vec::new();
    for tag in ["<input ", "<select ", "<textarea "] {
        for (start, _) in html.match_indices(tag) {
            let end = html[start..].find('>').map_or(html.len(), |end| start + end);
            let element = &html[start..end];
            if element.contains("type=\"hidden\"") {
                continue;
            }
            let id = element
                .split("id=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default();
            if id.is_empty() || !html.contains(&format!("for=\"{id}\"")) {
                missing.push(element.to_owned());
            }
        }
    }
    missing
}

#[tokio::test]
async fn every_input_of_every_page_has_a_label() {
    let served = common::served().await;
    let base = served.url.as_str();
    let client = http();
    let session = signed_in(&client, base, &served.admin).await;
    let shop = served.registry.connector_id("demo", "shop").await.unwrap();
    let mut pages = vec![
        "/connectors".to_owned(),
        "/connectors/new".to_owned(),
        format!("/connectors/{shop}"),
        format!("/connectors/{shop}/schema"),
        "/agents".to_owned(),
        "/agents/demo-agent".to_owned(),
        "/audit".to_owned(),
    ];
    for spec in served.registry.connector_types() {
        pages.push(format!("/connectors/new/{}", spec.connector_type));
    }
    for page in &pages {
        let response = client
            .get(format!("{base}{page}"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{page}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("<html lang=\"en\">"),
            "{page} declares its language"
        );
        assert!(html.contains("<h1>"), "{page} has a heading");
        if page.starts_with("/connectors/new/") {
            assert!(html.matches("<input ").count() > 5, "{page} shows its form");
        }
        let missing = unlabelled_inputs(&html);
        assert!(
            missing.is_empty(),
            "{page} has inputs without a label: {missing:?}"
        );
    }
    // The sign-in page too.
    let html = client
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(unlabelled_inputs(&html).is_empty());
}

/// A granted connector that gives the agent no tool (here: disabled) is pointed out on the agent's page.
#[tokio::test]
async fn an_agent_page_points_out_grants_that_give_no_tools() {
    let served = common::served().await;
    let base = served.url.as_str();
    let client = http();
    let session = signed_in(&client, base, &served.admin).await;
    let page = || async {
        client
            .get(format!("{base}/agents/demo-agent"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = page().await;
    assert!(before.contains("shop_query"), "the agent sees the shop's tools");
    assert!(!before.contains("none: the connector is disabled"));

    let shop = served.registry.connector_id("demo", "shop").await.unwrap();
    served
        .registry
        .update_connector(
            "demo",
            &shop,
            tributary_registry::ConnectorUpdate {
                status: Some(tributary_registry::Status::Disabled),
                ..Default::default()
            },
            tributary_registry::Origin::Operator,
        )
        .await
        .unwrap();
    let after = page().await;
    assert!(
        !after.contains("shop_query"),
        "a disabled connector gives no tools"
    );
    assert_eq!(
        after.matches("none: the connector is disabled").count(),
        1,
        "only the shop is pointed out"
    );
}

/// The reported attacks, through the console's forms: a local folder at the data folder or /etc, SQLite on
/// the store, a FIFO, a port change that would carry the kept password; and an operator's connector whose
/// settings a forged form cannot change.
#[tokio::test]
async fn the_console_holds_the_tenant_boundary() {
    let served = common::served().await;
    let base = served.url.as_str();
    let client = http();
    let session = signed_in(&client, base, &served.admin).await;
    let page = client
        .get(format!("{base}/connectors/new/s3"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let csrf = csrf_of(&page.text().await.unwrap());
    let data = served.dir.path().join("data");
    let fifo = served.dir.path().join("pipe.db");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let data_text = data.display().to_string();
    let store_text = data.join("tributary.db").display().to_string();
    let fifo_text = fifo.display().to_string();
    let attempts: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "s3",
            vec![
                ("config.provider", "local"),
                ("config.root", data_text.as_str()),
                ("config.bucket", "x"),
            ],
        ),
        (
            "s3",
            vec![
                ("config.provider", "local"),
                ("config.root", "/etc"),
                ("config.bucket", "x"),
            ],
        ),
        (
            "sqlite",
            vec![
                ("config.path", store_text.as_str()),
                ("config.read_only", "false"),
            ],
        ),
        ("sqlite", vec![("config.path", fifo_text.as_str())]),
    ];
    for (connector_type, config) in attempts {
        for action in ["test", "save"] {
            let mut fields = vec![
                ("csrf", csrf.as_str()),
                ("action", action),
                ("name", "grab"),
                ("policy.operations", "read"),
            ];
            fields.extend(config.iter().copied());
            let started = std::time::Instant::now();
            let response = post_form(
                &client,
                format!("{base}/connectors/new/{connector_type}"),
                &session,
                &fields,
            )
            .await;
            let status = response.status();
            let html = response.text().await.unwrap();
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "nothing blocked"
            );
            assert_ne!(
                status, 303,
                "{connector_type} {config:?} {action}: nothing is saved"
            );
            assert!(
                html.contains("outside the folders"),
                "{connector_type} {config:?} {action}: the refusal is shown"
            );
        }
    }
    // "Connect with Salesforce" would send the consumer secret to the login host: a loopback one is refused
    // before the browser is sent anywhere.
    let trap = tributary_testkit::network::Recorder::start().await.unwrap();
    let login = format!("https://127.0.0.1:{}", trap.port());
    let response = post_form(
        &client,
        format!("{base}/connectors/new/salesforce/oauth"),
        &session,
        &[
            ("csrf", csrf.as_str()),
            ("name", "crm"),
            ("config.login_host", login.as_str()),
            ("config.client_id", "3MVG9-consumer-key"),
            ("config.client_secret", "consumer-secret-value"),
            ("policy.operations", "read"),
        ],
    )
    .await;
    assert_ne!(
        response.status(),
        303,
        "the browser is not sent to the login host"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("loopback"), "{html}");
    assert!(!html.contains("consumer-secret-value"));
    assert_eq!(trap.accepted(), 0);
    let names: Vec<String> = served
        .registry
        .connectors("demo")
        .await
        .unwrap()
        .into_iter()
        .map(|view| view.name)
        .collect();
    assert_eq!(names, vec!["documents", "shop"]);

    // The operator's connector: its page says whose it is, and a forged form cannot move it.
    let shop = served.registry.connector_id("demo", "shop").await.unwrap();
    let detail = client
        .get(format!("{base}/connectors/{shop}"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(detail.contains("Declared by the server's operator"), "{detail}");
    assert!(
        !detail.contains("name=\"config.path\""),
        "its settings are not offered"
    );
    let before = served.registry.connector("demo", &shop).await.unwrap();
    let response = post_form(
        &client,
        format!("{base}/connectors/{shop}/settings"),
        &session,
        &[
            ("csrf", csrf.as_str()),
            ("name", "shop"),
            ("config.path", "/etc/shadow"),
            ("policy.operations", "read"),
            ("policy.objects", "main.customers\nmain.orders"),
            ("policy.mask_pii", "true"),
            ("policy.audit_queries", "true"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let after = served.registry.connector("demo", &shop).await.unwrap();
    assert_eq!(
        after.config["path"], before.config["path"],
        "the path is the operator's"
    );
}

#[tokio::test]
async fn a_port_change_in_the_console_drops_the_kept_password() {
    let pg = tributary_testkit::postgres().await.unwrap();
    let database = pg.create_database().await.unwrap();
    let served = common::served_with(|_| common::loopback_policy(Vec::new())).await;
    let base = served.url.as_str();
    let client = http();
    let session = signed_in(&client, base, &served.admin).await;
    let created = served
        .registry
        .create_connector(
            "demo",
            tributary_registry::NewConnector {
                name: "pg".into(),
                connector_type: "postgresql".into(),
                config: serde_json::json!({"host": pg.host(), "port": pg.port(), "database": database,
                    "user": pg.user(), "password": pg.password(), "tls_mode": "disable"}),
                governance: Default::default(),
            },
            tributary_registry::Origin::Tenant,
        )
        .await
        .unwrap();
    let page = client
        .get(format!("{base}/connectors/{}", created.id))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let csrf = csrf_of(&page.text().await.unwrap());
    let port = tributary_testkit::network::closed_port().unwrap().to_string();
    let host = pg.host().to_owned();
    let response = post_form(
        &client,
        format!("{base}/connectors/{}/settings", created.id),
        &session,
        &[
            ("csrf", csrf.as_str()),
            ("name", "pg"),
            ("config.host", host.as_str()),
            ("config.port", port.as_str()),
            ("config.database", database.as_str()),
            ("config.user", pg.user()),
            ("config.password", ""),
            ("config.tls_mode", "disable"),
            ("policy.operations", "read"),
            ("policy.mask_pii", "true"),
            ("policy.audit_queries", "true"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("notice=secrets-dropped"), "{location}");
    let page = client
        .get(format!("{base}{location}"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("its stored secrets were removed"),
        "the page says so"
    );
    let view = served.registry.connector("demo", &created.id).await.unwrap();
    assert_eq!(view.config["password"], serde_json::json!({"set": false}));
}
