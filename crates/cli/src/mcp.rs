//! The MCP server (rmcp): an agent's tools are `tools_for_agent`, calls go through `call_tool` (the
//! governed path), and a failed call comes back as a tool result the model can read (`isError`, with the
//! error's kind, message and hint), not as a protocol error. Over stdio the agent is fixed by
//! `tributary mcp --agent`; over HTTP each request carries the agent's bearer token, which the `/mcp` gate
//! (`api::mcp_gate`) checks before the request gets here. A session watches
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
use tributary_registry::{Registry, Tool};

/// How often a session compares the agent's tools with what it last listed.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// The MCP face of a registry.
#[derive(Clone)]
pub struct McpServer {
    registry: Arc<Registry>,
    /// The organization and agent of a stdio server; `None` over HTTP, where each request's token says.
    agent: Option<AgentName>,
}

/// An agent: its organization and its id there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentName {
    /// The organization.
    pub organization: String,
    /// The agent's id in it.
    pub agent: String,
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

/// The agent the `/mcp` gate (`api::mcp_gate`) authenticated, from the HTTP request's extensions.
fn gated_agent(extensions: &rmcp::model::Extensions) -> Option<AgentName> {
    extensions
        .get::<http::request::Parts>()?
        .extensions
        .get::<AgentName>()
        .cloned()
}

impl McpServer {
    /// A server for one agent (stdio).
    pub fn for_agent(registry: Arc<Registry>, organization: String, agent: String) -> McpServer {
        McpServer {
            registry,
            agent: Some(AgentName { organization, agent }),
        }
    }

    /// A server whose agent comes from each request's bearer token (HTTP).
    pub fn by_token(registry: Arc<Registry>) -> McpServer {
        McpServer {
            registry,
            agent: None,
        }
    }

    async fn agent(&self, extensions: &rmcp::model::Extensions) -> Result<AgentName, ErrorData> {
        if let Some(agent) = &self.agent {
            return Ok(agent.clone());
        }
        gated_agent(extensions).ok_or_else(|| {
            ErrorData::invalid_request("send the agent's token as `Authorization: Bearer <token>`", None)
        })
    }

    async fn tool_names(&self, agent: &AgentName) -> Vec<String> {
        self.registry
            .tools_for_agent(&agent.organization, &agent.agent)
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
            .tools_for_agent(&agent.organization, &agent.agent)
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
        let result = match self
            .registry
            .call_tool(&agent.organization, &agent.agent, &request.name, arguments)
            .await
        {
            Ok(result) => {
                let value = result.into_json();
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
