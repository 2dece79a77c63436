//! The admin API's handlers. Each takes the caller's organization from its token and passes it to the
//! registry, which refuses any id of another organization as not found.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tributary_core::{AccessClass, Error};
use tributary_registry::{AuditQuery, ConnectorUpdate, NewConnector, Origin, Outcome, Principal, Registry};

use super::auth::Admin;
use super::error::{ApiError, bad_body};

type Reply = Result<Json<Value>, ApiError>;

fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    payload.map(|Json(value)| value).map_err(bad_body)
}

fn json<T: serde::Serialize>(value: T) -> Reply {
    serde_json::to_value(value)
        .map(Json)
        .map_err(|error| ApiError::from(Error::internal(error.to_string())))
}

pub(crate) async fn connector_types(State(registry): State<Arc<Registry>>, _admin: Admin) -> Reply {
    let types: Vec<Value> = registry
        .connector_types()
        .into_iter()
        .map(|spec| {
            let schema = spec.json_schema();
            json!({ "spec": spec, "json_schema": schema })
        })
        .collect();
    json(types)
}

pub(crate) async fn list_connectors(State(registry): State<Arc<Registry>>, Admin(org): Admin) -> Reply {
    json(registry.connectors(&org).await?)
}

pub(crate) async fn create_connector(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    payload: Result<Json<NewConnector>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let created = registry
        .create_connector(&org, body(payload)?, Origin::Tenant)
        .await?;
    Ok((StatusCode::CREATED, json(created)?))
}

pub(crate) async fn show_connector(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path(id): Path<String>,
) -> Reply {
    json(registry.connector(&org, &id).await?)
}

pub(crate) async fn update_connector(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path(id): Path<String>,
    payload: Result<Json<ConnectorUpdate>, JsonRejection>,
) -> Reply {
    json(
        registry
            .update_connector(&org, &id, body(payload)?, Origin::Tenant)
            .await?,
    )
}

pub(crate) async fn delete_connector(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    registry.delete_connector(&org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn test_connector(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path(id): Path<String>,
) -> Reply {
    json(registry.test_connection(&org, &id).await?)
}

/// An unsaved config to test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestConfig {
    connector_type: String,
    config: Value,
}

pub(crate) async fn test_config(
    State(registry): State<Arc<Registry>>,
    _admin: Admin,
    payload: Result<Json<TestConfig>, JsonRejection>,
) -> Reply {
    let request = body(payload)?;
    json(
        registry
            .test_config(&request.connector_type, &request.config, Origin::Tenant)
            .await?,
    )
}

pub(crate) async fn schema(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path(id): Path<String>,
) -> Reply {
    json(registry.schema(&org, &id).await?)
}

/// An agent to create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewAgent {
    id: String,
    #[serde(default)]
    name: Option<String>,
}

pub(crate) async fn list_agents(State(registry): State<Arc<Registry>>, Admin(org): Admin) -> Reply {
    json(registry.agents(&org).await?)
}

pub(crate) async fn create_agent(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    payload: Result<Json<NewAgent>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let agent = body(payload)?;
    let name = agent.name.unwrap_or_else(|| agent.id.clone());
    let created = registry.put_agent(&org, &agent.id, &name).await?;
    Ok((StatusCode::CREATED, json(created)?))
}

pub(crate) async fn show_agent(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path(id): Path<String>,
) -> Reply {
    let agent = registry
        .agents(&org)
        .await?
        .into_iter()
        .find(|agent| agent.id == id)
        .ok_or_else(|| ApiError::from(Error::not_found(format!("no agent `{id}` in this organization"))))?;
    let grants = registry.grants_of_agent(&org, &id).await?;
    json(json!({ "agent": agent, "grants": grants }))
}

pub(crate) async fn delete_agent(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    registry.delete_agent(&org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn agent_tools(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path(id): Path<String>,
) -> Reply {
    // An agent of another organization is not found, as everywhere else in the API.
    registry.grants_of_agent(&org, &id).await?;
    json(registry.tools_for_agent(&org, &id).await?)
}

/// The optional body of `POST /agents/{id}/tokens`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    /// A name for the token (default `api`).
    #[serde(default)]
    name: Option<String>,
    /// When it expires (RFC 3339); absent for the server's default lifetime.
    #[serde(default)]
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub(crate) async fn agent_token(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path(id): Path<String>,
    payload: Option<Json<NewToken>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request = payload.map(|Json(request)| request).unwrap_or_default();
    let principal = Principal::Agent {
        organization: org.clone(),
        agent: id.clone(),
    };
    let name = request.name.as_deref().unwrap_or("api");
    let token = match request.expires_at {
        Some(at) => registry.issue_token_until(principal, name, Some(at)).await?,
        None => registry.issue_token(principal, name).await?,
    };
    Ok((StatusCode::CREATED, json(json!({ "agent": id, "token": token }))?))
}

/// `GET /api/v1/tokens`: the organization's tokens (never their values).
pub(crate) async fn list_tokens(State(registry): State<Arc<Registry>>, Admin(org): Admin) -> Reply {
    json(registry.tokens(Some(&org)).await?)
}

/// `DELETE /api/v1/tokens/{id}`: revokes one of the organization's tokens.
pub(crate) async fn revoke_token(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    registry.revoke_token_id(Some(&org), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn list_grants(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path(id): Path<String>,
) -> Reply {
    json(registry.grants_of_agent(&org, &id).await?)
}

/// The operations of a grant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantBody {
    operations: BTreeSet<AccessClass>,
}

pub(crate) async fn put_grant(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path((agent, connector)): Path<(String, String)>,
    payload: Result<Json<GrantBody>, JsonRejection>,
) -> Reply {
    json(
        registry
            .grant(&org, &agent, &connector, body(payload)?.operations)
            .await?,
    )
}

pub(crate) async fn delete_grant(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    Path((agent, connector)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    if registry.revoke(&org, &agent, &connector).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::from(Error::not_found("no such grant")))
    }
}

/// Audit filters and paging.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditFilters {
    connector: Option<String>,
    agent: Option<String>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    outcome: Option<Outcome>,
    limit: Option<u32>,
    offset: Option<u32>,
}

pub(crate) async fn audit(
    State(registry): State<Arc<Registry>>,
    Admin(org): Admin,
    filters: Result<Query<AuditFilters>, axum::extract::rejection::QueryRejection>,
) -> Reply {
    let Query(filters) =
        filters.map_err(|rejection| ApiError::from(Error::invalid_input(rejection.body_text())))?;
    let records = registry
        .audit(&AuditQuery {
            organization: org,
            connector: filters.connector,
            agent: filters.agent,
            since: filters.since,
            until: filters.until,
            outcome: filters.outcome,
            limit: Some(filters.limit.unwrap_or(100).min(1000)),
            offset: filters.offset,
        })
        .await?;
    json(records)
}
