//! The floor: a bare rmcp stdio server with one tool, `execute_sql`, that runs the statement it is given
//! through one tokio-postgres session and answers with the rows as JSON, the way Tributary answers (the
//! JSON as text, and the same value as structured content). No guard, no plan, no grants, no masking, no
//! audit, no limits: what an MCP call over PostgreSQL costs with nothing else done, so the governed path's
//! overhead can be read off beside it.
//!
//! `mcp_peers` starts its own executable with `BENCH_FLOOR_SERVE=1` to get this server.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

/// Whether this process was started as the floor server.
pub(crate) fn requested() -> bool {
    std::env::var_os("BENCH_FLOOR_SERVE").is_some()
}

#[derive(Clone)]
struct Floor {
    client: Arc<tokio_postgres::Client>,
}

/// A simple-protocol answer as JSON in the shape Tributary answers in (column names, then each row as an
/// array), values as PostgreSQL prints them.
fn rows_json(messages: Vec<tokio_postgres::SimpleQueryMessage>) -> Value {
    let mut columns = Vec::new();
    let mut rows = Vec::new();
    for message in messages {
        match message {
            tokio_postgres::SimpleQueryMessage::RowDescription(described) => {
                columns = described.iter().map(|column| json!(column.name())).collect();
            }
            tokio_postgres::SimpleQueryMessage::Row(row) => {
                let cells = (0..row.len())
                    .map(|index| {
                        row.get(index)
                            .map_or(Value::Null, |text| Value::String(text.to_owned()))
                    })
                    .collect();
                rows.push(Value::Array(cells));
            }
            _ => {}
        }
    }
    json!({ "columns": columns, "rows": rows })
}

impl ServerHandler for Floor {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema = json!({
            "type": "object",
            "properties": { "sql": { "type": "string" } },
            "required": ["sql"]
        });
        let schema = schema.as_object().cloned().unwrap_or_default();
        Ok(ListToolsResult::with_all_items(vec![Tool::new(
            "execute_sql",
            "Runs one SQL statement.",
            Arc::new(schema),
        )]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let sql = request
            .arguments
            .as_ref()
            .and_then(|arguments| arguments.get("sql"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let result = match self.client.simple_query(&sql).await {
            Ok(messages) => {
                let value = rows_json(messages);
                let mut reply = CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
                reply.structured_content = Some(value);
                reply
            }
            Err(error) => CallToolResult::error(vec![ContentBlock::text(error.to_string())]),
        };
        Ok(result.into())
    }
}

/// Serves MCP on stdin/stdout until the client goes away, on what `tributary mcp` runs on (one thread, the
/// pipes on the event loop: `tributary_cli::stdio`), so the floor differs from it by governance alone.
/// `BENCH_FLOOR_PLAIN=1` serves it the plain way instead (a worker per core, rmcp's `stdio()`), to see
/// what those two choices are worth.
pub(crate) fn serve() {
    let plain = std::env::var_os("BENCH_FLOOR_PLAIN").is_some();
    let runtime = if plain {
        tokio::runtime::Runtime::new()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    }
    .expect("a tokio runtime");
    runtime.block_on(async {
        let variable =
            |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name}: run benches/toolbox.sh"));
        let config = format!(
            "host={} port={} dbname={} user={} password={}",
            variable("POSTGRES_HOST"),
            variable("POSTGRES_PORT"),
            variable("POSTGRES_DATABASE"),
            variable("POSTGRES_USER"),
            variable("POSTGRES_PASSWORD"),
        );
        let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
            .await
            .expect("the floor could not connect to PostgreSQL");
        tokio::spawn(connection);
        let floor = Floor {
            client: Arc::new(client),
        };
        let server = if plain {
            floor.serve(rmcp::transport::stdio()).await
        } else {
            floor.serve(tributary_cli::stdio::transport()).await
        }
        .expect("the floor's MCP session");
        let _ = server.waiting().await;
    });
}
