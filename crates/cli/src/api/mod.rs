//! The HTTP face of the host: the REST admin API under `/api/v1` (admin tokens, one organization each),
//! the MCP endpoint at `/mcp` (agent tokens), `/healthz`, and the web console at `/` (see [`crate::console`]).
//!
//! - `error`: every failure as JSON `{"error": {code, message, hint, fields}}` with a fitting status.
//! - `auth`: the bearer-token extractor; an admin token's organization scopes every route.
//! - `routes`: the handlers.
//! - `openapi`: the OpenAPI 3.1 document served at `/api/v1/openapi.json`.

mod auth;
mod error;
pub mod openapi;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tower_http::timeout::TimeoutLayer;
use tributary_registry::Registry;

use crate::mcp::McpServer;

/// Largest request body of the admin API.
pub const MAX_BODY: usize = 1024 * 1024;
/// Longest an admin request may take (connection tests are bounded well below this).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The whole HTTP application.
pub fn app(registry: Arc<Registry>) -> Router {
    let mcp_registry = registry.clone();
    let registry_for_console = registry.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(McpServer::by_token(mcp_registry.clone())),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
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
        .route("/audit", get(routes::audit))
        .fallback(error::not_found)
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
}
