//! The MCP server (rmcp): an agent's tools are `tools_for_agent`, calls go through `call_tool` (the
//! governed path), and a failed call comes back as a tool result the model can read (`isError`, with the
//! error's kind, message and hint), not as a protocol error. Over stdio the agent is fixed by
//! `tributary mcp --agent`; over HTTP each request carries the agent's bearer token. A session watches
//! the agent's grants and sends `notifications/tools/list_changed` when its tools change.

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool as McpTool, ToolAnnotations,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};
use tributary_registry::{Principal, Registry, Tool};

/// How often a session compares the agent's tools with what it last listed.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// The MCP face of a registry.
#[derive(Clone)]
pub struct McpServer {
    registry: Arc<Registry>,
    agent: Option<String>,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer").field("agent", &self.agent).finish()
    }
}

/// An MCP tool from a registry tool.
fn to_mcp(tool: &Tool) -> McpTool {
    let schema: Map<String, Value> = tool.input_schema.as_object().cloned().unwrap_or_default();
    McpTool::new(tool.name.clone(), tool.description.clone(), Arc::new(schema))
        .with_title(tool.annotations.title.clone())
        .with_annotations(
            ToolAnnotations::with_title(tool.annotations.title.clone())
                .read_only(tool.annotations.read_only_hint)
                .destructive(tool.annotations.destructive_hint)
                .idempotent(tool.annotations.idempotent_hint)
                .open_world(tool.annotations.open_world_hint),
        )
}

fn bearer(extensions: &rmcp::model::Extensions) -> Option<String> {
    let parts = extensions.get::<http::request::Parts>()?;
    let value = parts.headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_owned)
}

impl McpServer {
    /// A server for one agent (stdio).
    pub fn for_agent(registry: Arc<Registry>, agent: String) -> McpServer {
        McpServer {
            registry,
            agent: Some(agent),
        }
    }

    /// A server whose agent comes from each request's bearer token (HTTP).
    pub fn by_token(registry: Arc<Registry>) -> McpServer {
        McpServer {
            registry,
            agent: None,
        }
    }

    async fn agent(&self, extensions: &rmcp::model::Extensions) -> Result<String, ErrorData> {
        if let Some(agent) = &self.agent {
            return Ok(agent.clone());
        }
        let token = bearer(extensions).ok_or_else(|| {
            ErrorData::invalid_request("send the agent's token as `Authorization: Bearer <token>`", None)
        })?;
        match self.registry.authenticate(&token).await {
            Ok(Principal::Agent { agent }) => Ok(agent),
            Ok(Principal::Admin { .. }) => Err(ErrorData::invalid_request(
                "an admin token cannot call tools; use an agent token",
                None,
            )),
            Err(error) => Err(ErrorData::invalid_request(error.message().to_owned(), None)),
        }
    }

    async fn tool_names(&self, agent: &str) -> Vec<String> {
        self.registry
            .tools_for_agent(agent)
            .await
            .map(|tools| tools.into_iter().map(|t| t.name).collect())
            .unwrap_or_default()
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_tool_list_changed().build()).with_instructions(
            "Tributary: governed access to databases, object storage and SaaS data. Each tool names its connector; \
             results may be masked, cut at a limit (see `truncation`), and every call is audited.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let agent = self.agent(&context.extensions).await?;
        let tools = self
            .registry
            .tools_for_agent(&agent)
            .await
            .map_err(|error| ErrorData::invalid_request(error.message().to_owned(), None))?;
        Ok(ListToolsResult::with_all_items(
            tools.iter().map(to_mcp).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let agent = self.agent(&context.extensions).await?;
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let result = match self.registry.call_tool(&agent, &request.name, arguments).await {
            Ok(result) => {
                let value = serde_json::to_value(&result).unwrap_or_default();
                let mut reply = CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
                reply.structured_content = Some(value);
                reply
            }
            Err(error) => {
                let report = json!({ "error": error.report() });
                CallToolResult::error(vec![ContentBlock::text(report.to_string())])
            }
        };
        Ok(result.into())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        let Ok(agent) = self.agent(&context.extensions).await else {
            return;
        };
        let server = self.clone();
        let peer = context.peer;
        tokio::spawn(async move {
            let mut listed = server.tool_names(&agent).await;
            loop {
                tokio::time::sleep(WATCH_INTERVAL).await;
                let now = server.tool_names(&agent).await;
                if now != listed {
                    if peer.notify_tool_list_changed().await.is_err() {
                        return;
                    }
                    listed = now;
                }
                if peer.is_transport_closed() {
                    return;
                }
            }
        });
    }
}
