//! MCP with a real client (rmcp): over stdio against the built binary, and over streamable HTTP against
//! the server. Listing and calling tools, a masked result, a denied call returned as a tool error the
//! model can read, and the list-changed notification when grants change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{bin, served};
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig, ProtocolVersion};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::sync::Notify;

fn arguments(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().cloned().unwrap()
}

fn structured(result: &CallToolResult) -> Value {
    result.structured_content.clone().unwrap_or_else(|| {
        let text = result.content[0]
            .as_text()
            .map(|t| t.text.clone())
            .unwrap_or_default();
        serde_json::from_str(&text).unwrap()
    })
}

async fn exercise<S: rmcp::service::Service<RoleClient>>(client: &RunningService<RoleClient, S>) {
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(
        names.contains(&"shop_query") && names.contains(&"documents_get"),
        "{names:?}"
    );
    let query = tools.iter().find(|t| t.name == "shop_query").unwrap();
    assert_eq!(
        query.annotations.as_ref().and_then(|a| a.read_only_hint),
        Some(true)
    );
    assert!(query.input_schema.contains_key("properties"));

    let result = client
        .call_tool(CallToolRequestParams::new("shop_query").with_arguments(arguments(
            json!({"sql": "SELECT name, email FROM customers WHERE id = 1"}),
        )))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false));
    let value = structured(&result);
    assert_eq!(
        value["data"]["rows"][0],
        json!(["Ada Lovelace", "<EMAIL>"]),
        "{value}"
    );
    assert_eq!(value["masked"]["email"], 1);

    let denied = client
        .call_tool(
            CallToolRequestParams::new("shop_query")
                .with_arguments(arguments(json!({"sql": "SELECT * FROM payroll"}))),
        )
        .await
        .unwrap();
    assert_eq!(
        denied.is_error,
        Some(true),
        "a denied call is a tool error the model reads"
    );
    let text = denied.content[0].as_text().unwrap().text.clone();
    assert!(
        text.contains("permission_denied") && text.contains("main.payroll"),
        "{text}"
    );
    // A CTE named after the table, defined in another scope, does not hide the table from the policy.
    for sql in [
        "SELECT * FROM payroll, (WITH payroll AS (SELECT 1 AS x) SELECT * FROM payroll) s",
        "WITH payroll AS (SELECT * FROM payroll) SELECT * FROM payroll",
    ] {
        let hidden = client
            .call_tool(
                CallToolRequestParams::new("shop_query").with_arguments(arguments(json!({"sql": sql}))),
            )
            .await
            .unwrap();
        let text = hidden.content[0].as_text().unwrap().text.clone();
        assert_eq!(hidden.is_error, Some(true), "{sql}: {text}");
        assert!(
            text.contains("permission_denied") && text.contains("main.payroll"),
            "{sql}: {text}"
        );
    }
}

#[tokio::test]
async fn over_stdio_against_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let transport = TokioChildProcess::new(tokio::process::Command::new(bin()).configure(|cmd| {
        cmd.args(["mcp", "--agent", "demo-agent"])
            .env("TRIBUTARY_DATA_DIR", &data);
    }))
    .unwrap();
    let client = ().serve(transport).await.expect("the MCP server starts over stdio");
    exercise(&client).await;
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn over_http_with_an_agent_token() {
    let s = served().await;
    let transport = rmcp::transport::StreamableHttpClientTransport::from_config(
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(format!(
            "{}/mcp",
            s.url
        ))
        .auth_header(s.agent.clone()),
    );
    let client = ().serve(transport).await.expect("the MCP server answers over HTTP");
    exercise(&client).await;
    client.cancel().await.unwrap();

    // An admin token or no token gets no tools.
    let transport = rmcp::transport::StreamableHttpClientTransport::from_config(
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(format!(
            "{}/mcp",
            s.url
        ))
        .auth_header(s.admin.clone()),
    );
    let refused = match ().serve(transport).await {
        Ok(client) => client.list_all_tools().await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "admin tokens cannot list an agent's tools");
}

struct Watcher(Arc<Notify>);

impl ClientHandler for Watcher {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default().with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.0.notify_one();
    }
}

#[tokio::test]
async fn the_tool_list_changes_when_grants_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (host, _) = tributary_cli::demo::open(&data).await.unwrap();
    let changed = Arc::new(Notify::new());
    let transport = TokioChildProcess::new(tokio::process::Command::new(bin()).configure(|cmd| {
        cmd.args(["mcp", "--agent", "demo-agent"])
            .env("TRIBUTARY_DATA_DIR", &data);
    }))
    .unwrap();
    let client = Watcher(changed.clone()).serve(transport).await.unwrap();
    assert_eq!(client.list_all_tools().await.unwrap().len(), 7);

    let documents = host.registry.connector_id("demo", "documents").await.unwrap();
    host.registry
        .revoke("demo", "demo-agent", &documents)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(15), changed.notified())
        .await
        .expect("a list-changed notification");
    let names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.into_owned())
        .collect();
    assert_eq!(names, ["shop_query", "shop_list_objects", "shop_describe_object"]);
    client.cancel().await.unwrap();
}

/// The body of an `initialize` request (the 2025 era, which opens a session).
fn initialize(client_name: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": client_name, "version": "1"}}})
}

/// A raw POST to `/mcp`, with a token and a session when given.
async fn post_mcp(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = http
        .post(format!("{url}/mcp"))
        .header("accept", "application/json, text/event-stream")
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request.send().await.unwrap()
}

/// Opens a session for `token` and returns its id.
async fn open_session(http: &reqwest::Client, url: &str, token: &str) -> String {
    let response = post_mcp(http, url, Some(token), None, &initialize("test")).await;
    assert_eq!(response.status(), 200);
    let session = response.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = post_mcp(http, url, Some(token), Some(&session), &initialized).await;
    assert!(response.status().is_success(), "{}", response.status());
    session
}

async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"].as_str().unwrap_or_default().to_owned()
}

/// The reported attack: 300 unauthenticated `initialize` requests with a 3 MB `clientInfo.name` each
/// took the server to 985 MB. Now nothing is allocated before the token is checked, handshakes are
/// capped in size, sessions belong to the agent that opened them and are capped per agent.
#[tokio::test]
async fn mcp_authenticates_before_anything_and_binds_each_session_to_its_agent() {
    let mut options = tributary_cli::api::ServerOptions::default();
    options.mcp.sessions_per_agent = 2;
    let s = common::served_on(|_| tributary_core::TenantPolicy::default(), options).await;
    let http = reqwest::Client::new();
    let url = s.url.as_str();

    for token in [None, Some("trb_forged"), Some("not-a-token")] {
        let response = post_mcp(&http, url, token, None, &initialize("anon")).await;
        assert_eq!(response.status(), 401, "{token:?}");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert!(response.headers().get("mcp-session-id").is_none());
        assert_eq!(error_code(response).await, "authentication");
    }
    let response = post_mcp(&http, url, Some(&s.admin), None, &initialize("admin")).await;
    assert_eq!(response.status(), 403, "an admin token is not an agent's");

    // Handshakes are small: a 3 MB or even a 2 KB clientInfo is refused before a session exists.
    for size in [3_000_000, 2_000] {
        let response = post_mcp(&http, url, Some(&s.agent), None, &initialize(&"x".repeat(size))).await;
        assert_eq!(response.status(), 413, "a {size}-byte client name");
        assert!(response.headers().get("mcp-session-id").is_none());
    }

    // A session is its agent's: another agent's token, or none, on it is told it does not exist.
    let session = open_session(&http, url, &s.agent).await;
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let response = post_mcp(&http, url, Some(&s.agent), Some(&session), &list).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("shop_query"));
    s.registry.put_agent("demo", "other-bot", "Other").await.unwrap();
    let other = s
        .registry
        .issue_token(
            tributary_registry::Principal::Agent {
                organization: "demo".into(),
                agent: "other-bot".into(),
            },
            "test",
        )
        .await
        .unwrap();
    let response = post_mcp(&http, url, Some(&other), Some(&session), &list).await;
    assert_eq!(response.status(), 404, "another agent cannot use the session");
    let response = post_mcp(&http, url, None, Some(&session), &list).await;
    assert_eq!(response.status(), 401);
    let listen = http
        .get(format!("{url}/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(listen.status(), 404, "nor listen to its notifications");

    // Sessions per agent are capped; another agent still gets its own.
    open_session(&http, url, &s.agent).await;
    let response = post_mcp(&http, url, Some(&s.agent), None, &initialize("third")).await;
    assert_eq!(response.status(), 429);
    assert_eq!(error_code(response).await, "rate_limited");
    open_session(&http, url, &other).await;
    // Closing a session frees its place.
    let closed = http
        .delete(format!("{url}/mcp"))
        .header("mcp-session-id", &session)
        .bearer_auth(&s.agent)
        .send()
        .await
        .unwrap();
    assert!(closed.status().is_success(), "{}", closed.status());
    open_session(&http, url, &s.agent).await;

    // A token revoked mid-session stops at its next request.
    let id = s
        .registry
        .tokens(Some("demo"))
        .await
        .unwrap()
        .into_iter()
        .find(|token| token.agent.as_deref() == Some("other-bot"))
        .unwrap()
        .id;
    s.registry.revoke_token_id(Some("demo"), &id).await.unwrap();
    let response = post_mcp(&http, url, Some(&other), None, &list).await;
    assert_eq!(response.status(), 401);
}

/// `/mcp` answers to the host names the operator lists, and to no others (DNS rebinding).
#[tokio::test]
async fn mcp_answers_to_the_host_names_the_operator_lists() {
    let http = reqwest::Client::new();
    let default = served().await;
    let named = {
        let options = tributary_cli::api::ServerOptions {
            allowed_hosts: vec!["tributary.example".into()],
            ..Default::default()
        };
        common::served_on(|_| tributary_core::TenantPolicy::default(), options).await
    };
    let status = |url: String, host: &'static str, token: String| {
        let http = http.clone();
        async move {
            http.post(format!("{url}/mcp"))
                .header("host", host)
                .header("accept", "application/json, text/event-stream")
                .bearer_auth(token)
                .json(&initialize("host"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        status(default.url.clone(), "127.0.0.1", default.agent.clone()).await,
        200
    );
    assert_eq!(
        status(default.url.clone(), "tributary.example", default.agent.clone()).await,
        403,
        "by default, loopback names only"
    );
    assert_eq!(
        status(named.url.clone(), "tributary.example", named.agent.clone()).await,
        200
    );
    assert_eq!(
        status(named.url.clone(), "evil.example", named.agent.clone()).await,
        403
    );
}
