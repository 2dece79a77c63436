//! "Connect with Salesforce": the OAuth web-server flow with PKCE.
//!
//! The wizard posts its form here; the settings wait in memory (at most ten minutes, keyed by the flow's
//! random `state`) while the administrator signs in at Salesforce. The callback checks the state, trades
//! the code and PKCE verifier for a refresh token, and saves the connector with the `refresh_token` grant.
//! The login host is a tenant's input: the code exchange (which carries the consumer secret) goes through
//! an HTTP client under the tenant policy, checked when the flow starts and again when it connects.

use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use tributary_core::{ConnectorSpec, Error, Secret};
use tributary_http::HttpClient;
use tributary_registry::{Governance, NewConnector, Origin};
use tributary_salesforce::auth::web_flow::AuthorizationRequest;
use tributary_salesforce::config::SalesforceConfig;

use super::ConsoleState;
use super::connectors::{PostedConnector, read_new, save_and_test, wizard_page};
use super::form;
use super::layout;
use super::session::{Session, SignedForm};

/// Where Salesforce sends the browser back to.
pub(crate) const CALLBACK_PATH: &str = "/oauth/salesforce/callback";
/// How long a started sign-in may take.
const PENDING_FOR: Duration = Duration::from_secs(600);

/// A sign-in in progress: what to save once Salesforce answers.
pub(crate) struct Pending {
    organization: String,
    name: String,
    config: Map<String, Value>,
    governance: Governance,
    request: AuthorizationRequest,
    /// The client the code exchange goes through, under the tenant policy.
    http: HttpClient,
    started: Instant,
}

/// The client the code exchange goes through: the tenant's login host, under the tenant policy.
fn login_client(state: &ConsoleState, typed: &SalesforceConfig) -> tributary_core::Result<HttpClient> {
    tributary_salesforce::auth::login_client(typed, state.registry.host_access(Origin::Tenant))
}

/// The origin this request reached, for the callback URL the connected app must list.
fn origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(http::header::HOST)?.to_str().ok()?;
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
    {
        return None;
    }
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
    Some(format!("{}://{host}", if https { "https" } else { "http" }))
}

fn salesforce_spec(state: &ConsoleState) -> Option<ConnectorSpec> {
    state
        .registry
        .connector_types()
        .into_iter()
        .find(|spec| spec.connector_type == tributary_salesforce::config::CONNECTOR_TYPE)
}

/// `POST /connectors/new/salesforce/oauth`: checks the settings, then sends the browser to Salesforce.
pub(crate) async fn start(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    SignedForm {
        session,
        form: posted,
    }: SignedForm,
) -> Response {
    let Some(spec) = salesforce_spec(&state) else {
        let error = Error::not_found("this server was built without the Salesforce connector");
        return layout::error_page(&session, StatusCode::NOT_FOUND, "Salesforce", &error.report());
    };
    let (
        PostedConnector {
            name,
            mut config,
            governance,
        },
        mut view,
    ) = match read_new(&session, &spec, &posted) {
        Ok(read) => read,
        Err(page) => return *page,
    };
    // Check everything but the token the flow is about to bring.
    config.insert("grant".into(), Value::String("refresh_token".into()));
    config.insert("refresh_token".into(), Value::String("pending".into()));
    let checked = spec
        .validate(&Value::Object(config.clone()))
        .and_then(|values| SalesforceConfig::from_values(&values));
    let checked = checked.and_then(|typed| login_client(&state, &typed).map(|http| (typed, http)));
    let (typed, http) = match checked {
        Ok(checked) => checked,
        Err(error) => {
            let report = error.report();
            view.errors = form::field_errors(&report);
            view.summary = Some(report);
            return wizard_page(&session, &spec, view);
        }
    };
    config.remove("refresh_token");
    let Some(origin) = origin(&headers) else {
        let error =
            Error::invalid_input("the request has no usable Host header to build the callback URL from");
        return layout::error_page(&session, StatusCode::BAD_REQUEST, "Salesforce", &error.report());
    };
    let redirect_uri = format!("{origin}{CALLBACK_PATH}");
    let request = match AuthorizationRequest::new(&typed.login_host, &typed.client_id, &redirect_uri, None) {
        Ok(request) => request,
        Err(error) => {
            view.summary = Some(error.report());
            return wizard_page(&session, &spec, view);
        }
    };
    let url = request.url.clone();
    let Ok(mut pending) = state.pending.lock() else {
        let error = Error::internal("the console's pending sign-ins are unavailable; restart the server");
        return layout::error_page(
            &session,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Salesforce",
            &error.report(),
        );
    };
    pending.retain(|_, entry| entry.started.elapsed() < PENDING_FOR);
    pending.insert(
        request.state.clone(),
        Pending {
            organization: session.organization.clone(),
            name,
            config,
            governance,
            request,
            http,
            started: Instant::now(),
        },
    );
    Redirect::to(&url).into_response()
}

/// What Salesforce sends back.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// `GET /oauth/salesforce/callback`
pub(crate) async fn callback(
    State(state): State<ConsoleState>,
    session: Session,
    Query(callback): Query<Callback>,
) -> Response {
    let refuse = |status: StatusCode, error: Error| {
        layout::error_page(&session, status, "Connect with Salesforce", &error.report())
    };
    let pending = match state.pending.lock() {
        Ok(mut pending) => pending
            .remove(&callback.state)
            .filter(|entry| entry.started.elapsed() < PENDING_FOR),
        Err(_) => None,
    };
    let Some(pending) = pending.filter(|entry| entry.organization == session.organization) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            Error::permission_denied(
                "this sign-in is unknown, expired, or was started by another organization",
            )
            .with_hint(
                "start again from the Salesforce connector wizard; a sign-in must finish within 10 minutes",
            ),
        );
    };
    if !callback.error.is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            Error::new(
                tributary_core::ErrorKind::Authentication,
                format!("Salesforce did not authorize the connection: {} {}", callback.error, callback.error_description),
            )
            .with_hint("approve the request at Salesforce, or check the connected app's callback URL and OAuth scopes"),
        );
    }
    let client_secret = pending
        .config
        .get("client_secret")
        .and_then(Value::as_str)
        .map(|secret| Secret::new(secret.to_owned()));
    let tokens = match pending
        .request
        .exchange(
            &pending.http,
            &callback.code,
            &callback.state,
            client_secret.as_ref(),
        )
        .await
    {
        Ok(tokens) => tokens,
        Err(error) => return refuse(StatusCode::BAD_GATEWAY, error),
    };
    let Some(refresh_token) = tokens.refresh_token else {
        return refuse(
            StatusCode::BAD_GATEWAY,
            Error::new(
                tributary_core::ErrorKind::Authentication,
                "Salesforce issued no refresh token",
            )
            .with_hint(
                "add the `refresh_token` (offline access) scope to the connected app and connect again",
            ),
        );
    };
    let mut config = pending.config;
    config.insert(
        "refresh_token".into(),
        Value::String(refresh_token.expose().to_owned()),
    );
    let new = NewConnector {
        name: pending.name,
        connector_type: tributary_salesforce::config::CONNECTOR_TYPE.to_owned(),
        config: Value::Object(config),
        governance: pending.governance,
    };
    match save_and_test(&state, &session, new, "salesforce").await {
        Ok(saved) => saved,
        Err(error) => refuse(StatusCode::UNPROCESSABLE_ENTITY, error),
    }
}
