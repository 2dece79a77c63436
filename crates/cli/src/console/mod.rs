//! The web console at `/`: server-rendered pages for the administrators who set connectors up.
//!
//! Pages are HTML from maud templates compiled into the binary, with one small script and one style
//! sheet served from `/assets`; nothing needs Node to build. The console authenticates with the same admin
//! tokens as the REST API (see [`session`]), and its script calls that API for live connection tests.
//!
//! - `session`: the session cookie, CSRF tokens, and the extractor that sends visitors to sign in.
//! - `sign_in`: signing in and out.
//! - `layout`: the page shell, shared components, and the security headers (CSP without inline script).
//! - `form`: connector forms generated from a type's `ConnectorSpec`, and posted forms read back.
//! - `connectors`, `agents`, `tokens`, `audit`: the pages.
//! - `salesforce`: "Connect with Salesforce" (OAuth web-server flow with PKCE).

mod agents;
mod audit;
mod connectors;
mod form;
mod layout;
mod salesforce;
pub mod session;
mod sign_in;
mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tributary_registry::Registry;

/// What the console's handlers share.
#[derive(Clone)]
pub(crate) struct ConsoleState {
    registry: Arc<Registry>,
    /// "Connect with Salesforce" sign-ins in progress, by OAuth state.
    pending: Arc<Mutex<HashMap<String, salesforce::Pending>>>,
}

impl FromRef<ConsoleState> for Arc<Registry> {
    fn from_ref(state: &ConsoleState) -> Arc<Registry> {
        state.registry.clone()
    }
}

const STYLE: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// Any other path: an HTML page rather than an empty 404.
async fn not_found() -> Response {
    layout::bare_page(
        axum::http::StatusCode::NOT_FOUND,
        "Page not found",
        maud::html! {
            p { "There is no page at this address. It may have been a connector or agent that was deleted." }
            p { a href="/connectors" { "Go to the connectors" } }
        },
    )
}

/// The console's routes, to merge into the host's application.
pub fn router(registry: Arc<Registry>) -> Router {
    let state = ConsoleState {
        registry,
        pending: Arc::new(Mutex::new(HashMap::new())),
    };
    Router::new()
        .route("/", get(|| async { Redirect::to("/connectors") }))
        .route(
            "/assets/console.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route(
            "/assets/console.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route("/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/connectors", get(connectors::list))
        .route("/connectors/new", get(connectors::choose_type))
        .route("/connectors/new/salesforce/oauth", post(salesforce::start))
        .route(
            "/connectors/new/{connector_type}",
            get(connectors::wizard).post(connectors::create),
        )
        .route("/connectors/{id}", get(connectors::detail))
        .route("/connectors/{id}/settings", post(connectors::update))
        .route("/connectors/{id}/test", post(connectors::test))
        .route("/connectors/{id}/status", post(connectors::set_status))
        .route("/connectors/{id}/delete", post(connectors::delete))
        .route("/connectors/{id}/schema", get(connectors::schema))
        .route("/agents", get(agents::list).post(agents::create))
        .route("/agents/{id}", get(agents::detail))
        .route("/agents/{id}/grants", post(agents::grant))
        .route("/agents/{id}/tokens", post(agents::issue_token))
        .route("/agents/{id}/grants/{connector}/revoke", post(agents::revoke))
        .route("/agents/{id}/delete", post(agents::delete))
        .route("/tokens", get(tokens::list))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/audit", get(audit::log))
        .route(salesforce::CALLBACK_PATH, get(salesforce::callback))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(layout::security_headers))
        .with_state(state)
}
