//! The HTTP face of the host: the REST admin API under `/api/v1` (admin tokens, one organization each),
//! the MCP endpoint at `/mcp` (agent tokens), `/healthz`, and the web console at `/` (see [`crate::console`]).
//!
//! - `error`: every failure as JSON `{"error": {code, message, hint, fields}}` with a fitting status.
//! - `auth`: the bearer-token extractor; an admin token's organization scopes every route.
//! - `routes`: the handlers.
//! - `openapi`: the OpenAPI 3.1 document served at `/api/v1/openapi.json`.
//! - `mcp_gate`: authenticates `/mcp` before rmcp sees a request, binds sessions to their agent, caps them.
//! - `server`: the listener loop, with the connection limit and the header read timeout.
//!
//! Every route has a body size limit and a body read timeout; API and MCP responses are never cached.

mod auth;
mod error;
pub mod mcp_gate;
pub mod openapi;
mod routes;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post, put};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tributary_registry::Registry;

use crate::mcp::McpServer;
use mcp_gate::{McpGate, McpLimits};
use server::ConnectionLimits;

/// Largest request body of the admin API.
pub const MAX_BODY: usize = 1024 * 1024;
/// Longest an admin request may take (connection tests are bounded well below this).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The limits and names of the HTTP server (`[server]` in the configuration file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// The `Host` names (or `host:port`) `/mcp` answers to, against DNS rebinding; loopback names by
    /// default. Behind a real host name, list it.
    pub allowed_hosts: Vec<String>,
    /// Connections at once, and the header read timeout.
    pub connections: ConnectionLimits,
    /// The longest a client may take to send a request's body.
    pub body_read_timeout: Duration,
    /// Sessions and handshakes of `/mcp`.
    pub mcp: McpLimits,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            allowed_hosts: StreamableHttpServerConfig::default().allowed_hosts,
            connections: ConnectionLimits::default(),
            body_read_timeout: Duration::from_secs(30),
            mcp: McpLimits::default(),
        }
    }
}

/// Responses of the API and of `/mcp` hold an organization's data: no cache may keep them.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The whole HTTP application, with the default [`ServerOptions`].
pub fn app(registry: Arc<Registry>) -> Router {
    app_with(registry, &ServerOptions::default())
}

/// The whole HTTP application.
pub fn app_with(registry: Arc<Registry>, options: &ServerOptions) -> Router {
    let mcp_registry = registry.clone();
    let registry_for_console = registry.clone();
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.keep_alive = Some(options.mcp.idle);
    let sessions = Arc::new(sessions);
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(options.allowed_hosts.clone())
        .with_max_request_body_bytes(options.mcp.body_bytes);
    config.sse_keep_alive = Some(Duration::from_secs(15));
    let mcp = StreamableHttpService::new(
        move || Ok(McpServer::by_token(mcp_registry.clone())),
        sessions.clone(),
        config,
    );
    let gate = Arc::new(McpGate::new(registry.clone(), sessions, options.mcp));
    let mcp = Router::new()
        .fallback_service(mcp)
        .layer(axum::middleware::from_fn_with_state(gate, mcp_gate::gate))
        .layer(axum::middleware::map_response(no_store));
    let api = Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/connector-types", get(routes::connector_types))
        .route(
            "/connectors",
            get(routes::list_connectors).post(routes::create_connector),
        )
        .route("/connectors/test", post(routes::test_config))
        .route(
            "/connectors/{id}",
            get(routes::show_connector)
                .patch(routes::update_connector)
                .delete(routes::delete_connector),
        )
        .route("/connectors/{id}/test", post(routes::test_connector))
        .route("/connectors/{id}/schema", get(routes::schema))
        .route("/agents", get(routes::list_agents).post(routes::create_agent))
        .route(
            "/agents/{id}",
            get(routes::show_agent).delete(routes::delete_agent),
        )
        .route("/agents/{id}/tools", get(routes::agent_tools))
        .route("/agents/{id}/tokens", post(routes::agent_token))
        .route("/agents/{id}/grants", get(routes::list_grants))
        .route(
            "/agents/{id}/grants/{connector}",
            put(routes::put_grant).delete(routes::delete_grant),
        )
        .route("/tokens", get(routes::list_tokens))
        .route("/tokens/{id}", axum::routing::delete(routes::revoke_token))
        .route("/audit", get(routes::audit))
        .fallback(error::not_found)
        .layer(axum::middleware::map_response(no_store))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            TIMEOUT,
        ))
        .with_state(registry);
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .nest("/api/v1", api)
        .nest_service("/mcp", mcp)
        .merge(crate::console::router(registry_for_console))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(RequestBodyTimeoutLayer::new(options.body_read_timeout))
}
