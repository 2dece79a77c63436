//! MCP with a real client (rmcp): over stdio against the built binary, and over streamable HTTP against
//! the server. Listing and calling tools, a masked result, a denied call returned as a tool error the
//! model can read, and the list-changed notification when grants change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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
