//! The gate in front of `/mcp`: nothing reaches the MCP service, and nothing is allocated for a session,
//! until the request's bearer token is an agent's.
//!
//! - No token, or one that is not valid: `401` with `WWW-Authenticate: Bearer`; an admin token: `403`.
//! - A session (`Mcp-Session-Id`) belongs to the agent that opened it: a request on it with another
//!   agent's token, or none, is answered as if the session did not exist (`404`), so it can neither call
//!   nor listen.
//! - Sessions are capped per agent and in total (`429` when full), the `initialize` request is capped in
//!   size (a handshake is small; its `clientInfo` is kept for the session's life), and rmcp ends idle
//!   sessions.
//!
//! The agent is put in the request's extensions; [`crate::mcp::McpServer`] reads it from there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use serde_json::Value;
use tributary_core::{Error, ErrorKind};
use tributary_registry::{Principal, Registry};

use crate::mcp::AgentName;

/// The header that names an MCP session.
const SESSION_HEADER: &str = "mcp-session-id";

/// Limits of the MCP endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McpLimits {
    /// Open sessions one agent may hold.
    pub sessions_per_agent: usize,
    /// Open sessions in all.
    pub sessions: usize,
    /// A session unused this long is closed.
    pub idle: Duration,
    /// The largest `initialize` request, in bytes.
    pub handshake_bytes: usize,
    /// The largest `clientInfo` of a handshake, in bytes of JSON.
    pub client_info_bytes: usize,
    /// The largest request body, in bytes.
    pub body_bytes: usize,
}

impl Default for McpLimits {
    fn default() -> Self {
        McpLimits {
            sessions_per_agent: 16,
            sessions: 1024,
            idle: Duration::from_secs(300),
            handshake_bytes: 16 * 1024,
            client_info_bytes: 1024,
            body_bytes: super::MAX_BODY,
        }
    }
}

/// What the gate keeps: who owns each session it let open.
pub(crate) struct McpGate {
    registry: Arc<Registry>,
    sessions: Arc<LocalSessionManager>,
    owners: Mutex<HashMap<String, AgentName>>,
    /// Held while a session opens, so two handshakes cannot both take the last place.
    opening: tokio::sync::Mutex<()>,
    limits: McpLimits,
}

impl McpGate {
    pub(crate) fn new(
        registry: Arc<Registry>,
        sessions: Arc<LocalSessionManager>,
        limits: McpLimits,
    ) -> McpGate {
        McpGate {
            registry,
            sessions,
            owners: Mutex::new(HashMap::new()),
            opening: tokio::sync::Mutex::new(()),
            limits,
        }
    }

    fn owners(&self) -> std::sync::MutexGuard<'_, HashMap<String, AgentName>> {
        self.owners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets sessions rmcp has closed (idle, deleted, ended by the client).
    async fn prune(&self) {
        let open = self.sessions.sessions.read().await;
        self.owners().retain(|id, _| open.contains_key(id.as_str()));
    }
}

fn refusal(status: StatusCode, error: Error) -> Response {
    let mut response = super::error::ApiError::from(error).into_response();
    *response.status_mut() = status;
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        let challenge = if status == StatusCode::UNAUTHORIZED {
            "Bearer realm=\"tributary\", error=\"invalid_token\""
        } else {
            "Bearer realm=\"tributary\", error=\"insufficient_scope\""
        };
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    response
}

fn no_such_session() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        Error::not_found("no such MCP session").with_hint("initialize a new session with this agent's token"),
    )
}

/// The agent of a request's bearer token.
async fn agent_of(registry: &Registry, token: Option<String>) -> Result<AgentName, Response> {
    let Some(token) = token else {
        return Err(refusal(
            StatusCode::UNAUTHORIZED,
            Error::new(ErrorKind::Authentication, "/mcp needs an agent token")
                .with_hint("send `Authorization: Bearer <agent token>`"),
        ));
    };
    match registry.authenticate(&token).await {
        Ok(Principal::Agent { organization, agent }) => Ok(AgentName { organization, agent }),
        Ok(Principal::Admin { .. }) => Err(refusal(
            StatusCode::FORBIDDEN,
            Error::permission_denied("an admin token cannot call tools").with_hint("use an agent token"),
        )),
        Err(error) if error.kind() == ErrorKind::Authentication => {
            Err(refusal(StatusCode::UNAUTHORIZED, error))
        }
        Err(error) => Err(refusal(StatusCode::SERVICE_UNAVAILABLE, error)),
    }
}

/// Whether a JSON-RPC body is an `initialize` request, and if so whether its handshake fits the limits.
fn check_handshake(body: &[u8], limits: &McpLimits) -> Result<bool, Error> {
    let Ok(message) = serde_json::from_slice::<Value>(body) else {
        return Ok(false);
    };
    if message.get("method").and_then(Value::as_str) != Some("initialize") {
        return Ok(false);
    }
    let too_large = |what: &str, limit: usize| {
        Error::invalid_input(format!("the {what} is larger than {limit} bytes"))
            .with_hint("send a shorter clientInfo; handshakes are small")
    };
    if body.len() > limits.handshake_bytes {
        return Err(too_large("initialize request", limits.handshake_bytes));
    }
    let info = message.pointer("/params/clientInfo").map(Value::to_string);
    if info.is_some_and(|info| info.len() > limits.client_info_bytes) {
        return Err(too_large("clientInfo", limits.client_info_bytes));
    }
    Ok(true)
}

/// The middleware.
pub(crate) async fn gate(State(gate): State<Arc<McpGate>>, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned);
    let agent = match agent_of(&gate.registry, token).await {
        Ok(agent) => agent,
        Err(refused) => return refused,
    };
    let session = request
        .headers()
        .get(SESSION_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(agent.clone());
    if let Some(session) = session {
        if gate.owners().get(&session) != Some(&agent) {
            return no_such_session();
        }
        let ending = parts.method == Method::DELETE;
        let response = next.run(Request::from_parts(parts, body)).await;
        if ending && response.status().is_success() {
            gate.owners().remove(&session);
        }
        return response;
    }
    if parts.method != Method::POST {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let bytes = match axum::body::to_bytes(body, gate.limits.body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                Error::invalid_input(format!(
                    "the request body is larger than {} bytes, or was not sent in time",
                    gate.limits.body_bytes
                )),
            );
        }
    };
    let initialize = match check_handshake(&bytes, &gate.limits) {
        Ok(initialize) => initialize,
        Err(error) => return refusal(StatusCode::PAYLOAD_TOO_LARGE, error),
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    if !initialize {
        return next.run(request).await;
    }
    let _opening = gate.opening.lock().await;
    gate.prune().await;
    let (mine, all) = {
        let owners = gate.owners();
        (
            owners.values().filter(|owner| **owner == agent).count(),
            owners.len(),
        )
    };
    if mine >= gate.limits.sessions_per_agent || all >= gate.limits.sessions {
        let message = if mine >= gate.limits.sessions_per_agent {
            format!("this agent has {mine} open MCP sessions, the most it may hold")
        } else {
            "the server holds as many MCP sessions as it may".to_owned()
        };
        return refusal(StatusCode::TOO_MANY_REQUESTS, Error::new(ErrorKind::RateLimited, message).with_hint(format!(
                "close sessions you no longer use (HTTP DELETE with their Mcp-Session-Id); idle ones close after {} s",
                gate.limits.idle.as_secs()
            )),
        );
    }
    let response = next.run(request).await;
    if let Some(opened) = response
        .headers()
        .get(SESSION_HEADER)
        .and_then(|value| value.to_str().ok())
    {
        gate.owners().insert(opened.to_owned(), agent);
    }
    response
}
