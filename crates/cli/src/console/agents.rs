//! Agent pages: the list, creation, a connector's grant to an agent with its operations, and the tool
//! list exactly as the agent sees it over MCP.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use tributary_core::{AccessClass, Error};

use super::ConsoleState;
use super::form::{self, Posted};
use super::layout::NoticeQuery;
use super::layout::{self, Section, csrf_field, error_panel, notice, page};
use super::session::{Session, SignedForm};

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "Agent created. Grant it connectors below.",
        "granted" => "Grant saved: the agent's tools changed accordingly.",
        "revoked" => "Grant revoked.",
        "deleted" => "Agent deleted.",
        _ => return None,
    })
}

/// `GET /agents`
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    session: Session,
    Query(query): Query<NoticeQuery>,
) -> Response {
    list_page(&state, &session, notice_text(&query.notice), None).await
}

async fn list_page(
    state: &ConsoleState,
    session: &Session,
    shown_notice: Option<&str>,
    failed: Option<(&Posted, Error)>,
) -> Response {
    let agents = match state.registry.agents(&session.organization).await {
        Ok(agents) => agents,
        Err(error) => {
            return layout::error_page(
                session,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Agents",
                &error.report(),
            );
        }
    };
    let mut rows = Vec::new();
    for agent in &agents {
        let grants = state
            .registry
            .grants_of_agent(&session.organization, &agent.id)
            .await
            .map(|grants| grants.len())
            .unwrap_or(0);
        rows.push((agent, grants));
    }
    let typed = failed.as_ref().map(|(posted, _)| *posted);
    let body = html! {
        @if let Some(text) = shown_notice { (notice(text)) }
        @if let Some((_, error)) = &failed { (error_panel(&error.report())) }
        @if agents.is_empty() {
            div class="empty" {
                h2 { "No agents yet" }
                p { "An agent is an identity that calls tools over MCP. Create one, grant it connectors, then give it a token." }
            }
        } @else {
            div class="table-wrap" {
                table {
                    thead { tr { th scope="col" { "Agent" } th scope="col" { "Name" } th scope="col" { "Connectors granted" } } }
                    tbody {
                        @for (agent, grants) in &rows {
                            tr {
                                th scope="row" { a href={ "/agents/" (agent.id) } { (agent.id) } }
                                td { (agent.name) }
                                td class="num" { (grants) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="new-agent" {
            h2 id="new-agent" { "New agent" }
            form method="post" action="/agents" class="inline" {
                (csrf_field(session))
                div class="field" {
                    label for="f-id" { "Agent id " abbr class="required" title="required" { "*" } }
                    input id="f-id" name="id" type="text" required pattern="[A-Za-z0-9_-]{1,64}" autocomplete="off"
                        value=[typed.and_then(|posted| form::value(posted, "id"))] aria-describedby="help-f-id";
                    p class="help" id="help-f-id" { "Letters, digits, _ and -, e.g. support-bot." }
                }
                div class="field" {
                    label for="f-agent-name" { "Display name" }
                    input id="f-agent-name" name="name" type="text" autocomplete="off"
                        value=[typed.and_then(|posted| form::value(posted, "name"))];
                }
                button type="submit" class="primary" { "Create agent" }
            }
        }
    };
    let mut response = page(session, Section::Agents, "Agents", body);
    if failed.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// `POST /agents`
pub(crate) async fn create(
    State(state): State<ConsoleState>,
    SignedForm {
        session,
        form: posted,
    }: SignedForm,
) -> Response {
    let id = form::value(&posted, "id").unwrap_or_default().trim().to_owned();
    let name = form::value(&posted, "name")
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .unwrap_or(&id)
        .to_owned();
    if state
        .registry
        .agents(&session.organization)
        .await
        .is_ok_and(|agents| agents.iter().any(|agent| agent.id == id))
    {
        let error = Error::new(
            tributary_core::ErrorKind::Conflict,
            format!("agent `{id}` already exists"),
        )
        .with_hint("pick another id, or open the existing agent to change its grants");
        return list_page(&state, &session, None, Some((&posted, error))).await;
    }
    match state.registry.put_agent(&session.organization, &id, &name).await {
        Ok(agent) => Redirect::to(&format!("/agents/{}?notice=created", agent.id)).into_response(),
        Err(error) => list_page(&state, &session, None, Some((&posted, error))).await,
    }
}

/// `GET /agents/{id}`
pub(crate) async fn detail(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    detail_page(&state, &session, &id, notice_text(&query.notice), None).await
}

async fn detail_page(
    state: &ConsoleState,
    session: &Session,
    id: &str,
    shown_notice: Option<&str>,
    failed: Option<Error>,
) -> Response {
    let registry = &state.registry;
    let org = &session.organization;
    let agent = match registry.agents(org).await {
        Ok(agents) => agents.into_iter().find(|agent| agent.id == id),
        Err(error) => {
            return layout::error_page(
                session,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Agent",
                &error.report(),
            );
        }
    };
    let Some(agent) = agent else {
        let error = Error::not_found(format!("no agent `{id}` in this organization"))
            .with_hint("see the agents list for the ones that exist");
        return layout::error_page(session, StatusCode::NOT_FOUND, "Agent not found", &error.report());
    };
    let grants = registry.grants_of_agent(org, id).await.unwrap_or_default();
    let connectors = registry.connectors(org).await.unwrap_or_default();
    let tools = registry.tools_for_agent(org, id).await;
    let name_of = |connector: &str| {
        connectors
            .iter()
            .find(|candidate| candidate.id == connector)
            .map_or_else(|| connector.to_owned(), |candidate| candidate.name.clone())
    };
    // A granted connector that gives no tool is worth pointing out: the agent silently lacks it.
    let tool_count = |connector: &str| {
        tools.as_ref().map_or(0, |tools| {
            tools.iter().filter(|tool| tool.connector_id == connector).count()
        })
    };
    let body = html! {
        @if let Some(text) = shown_notice { (notice(text)) }
        @if let Some(error) = &failed { (error_panel(&error.report())) }
        p class="meta" { "Display name: " (agent.name) }
        section aria-labelledby="grants" {
            h2 id="grants" { "Connectors" }
            @if grants.is_empty() {
                p class="empty" { "This agent may not use any connector yet." }
            } @else {
                div class="table-wrap" {
                    table {
                        thead { tr { th scope="col" { "Connector" } th scope="col" { "Operations" } th scope="col" { "Tools" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                        tbody {
                            @for grant in &grants {
                                tr {
                                    th scope="row" { a href={ "/connectors/" (grant.connector) } { (name_of(&grant.connector)) } }
                                    td { (grant.operations.iter().map(|class| class.as_str()).collect::<Vec<_>>().join(", ")) }
                                    td {
                                        @match tool_count(&grant.connector) {
                                            0 => span class="bad-text" { "none: the connector is disabled or its settings no longer build; open it and test" },
                                            count => (count),
                                        }
                                    }
                                    td {
                                        form method="post" action={ "/agents/" (agent.id) "/grants/" (grant.connector) "/revoke" } {
                                            (csrf_field(session))
                                            button type="submit" class="link danger" { "Revoke" span class="visually-hidden" { " " (name_of(&grant.connector)) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if connectors.is_empty() {
                p { "There are no connectors to grant yet. " a href="/connectors/new" { "Create one" } "." }
            } @else {
                form method="post" action={ "/agents/" (agent.id) "/grants" } class="inline" id="grant-form" {
                    (csrf_field(session))
                    div class="field" {
                        label for="f-connector" { "Connector" }
                        select id="f-connector" name="connector" required {
                            @for connector in &connectors {
                                option value=(connector.id) { (connector.name) }
                            }
                        }
                    }
                    fieldset class="checks" {
                        legend { "Operations" }
                        @for class in [AccessClass::Read, AccessClass::Write] {
                            div class="check" {
                                input type="checkbox" id={ "f-grant-" (class.as_str()) } name="operations" value=(class.as_str())
                                    checked[class == AccessClass::Read];
                                label for={ "f-grant-" (class.as_str()) } { (class.as_str()) }
                            }
                        }
                    }
                    button type="submit" class="primary" { "Grant" }
                }
                p class="help" { "Only operations the connector's policy allows can be granted; granting again replaces the operations." }
            }
        }
        section aria-labelledby="tools" {
            h2 id="tools" { "Tools this agent sees" }
            @match &tools {
                Err(error) => (error_panel(&error.report())),
                Ok(tools) if tools.is_empty() => p class="empty" { "No tools: grant a connector to give this agent tools." },
                Ok(tools) => {
                    p class="muted" { "Exactly what the agent lists over MCP (" code { "tools/list" } ")." }
                    ul class="tools" {
                        @for tool in tools {
                            li {
                                details {
                                    summary {
                                        code class="tool-name" { (tool.name) }
                                        " "
                                        @if tool.annotations.read_only_hint { span class="badge ok" { "read-only" } }
                                        @else { span class="badge warn" { "writes" } }
                                    }
                                    p { (tool.description) }
                                    pre { (serde_json::to_string_pretty(&tool.input_schema).unwrap_or_default()) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="token" {
            h2 id="token" { "Token" }
            p { "An agent authenticates to " code { "/mcp" } " with a bearer token. Each token is shown once and stored only as a hash." }
            form method="post" action={ "/agents/" (agent.id) "/tokens" } {
                (csrf_field(session))
                button type="submit" id="issue-token" { "Issue a token" }
            }
        }
        section aria-labelledby="danger" {
            h2 id="danger" { "Delete" }
            form method="post" action={ "/agents/" (agent.id) "/delete" } data-confirm={ "Delete agent " (agent.id) " and its grants?" } {
                (csrf_field(session))
                button type="submit" class="danger" { "Delete agent" }
            }
        }
    };
    let title = format!("Agent {}", agent.id);
    let mut response = page(session, Section::Agents, &title, body);
    if failed.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// `POST /agents/{id}/tokens`: a new token for the agent, shown once.
pub(crate) async fn issue_token(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    SignedForm { session, .. }: SignedForm,
) -> Response {
    // The agent must belong to the session's organization.
    if let Err(error) = state.registry.grants_of_agent(&session.organization, &id).await {
        return detail_page(&state, &session, &id, None, Some(error)).await;
    }
    let principal = tributary_registry::Principal::Agent {
        organization: session.organization.clone(),
        agent: id.clone(),
    };
    let token = match state.registry.issue_token(principal, "console").await {
        Ok(token) => token,
        Err(error) => return detail_page(&state, &session, &id, None, Some(error)).await,
    };
    let body = html! {
        div class="panel ok" role="status" {
            p { "Copy this token now: it is not stored and will not be shown again." }
            p { code id="issued-token" class="token" { (token) } }
        }
        p { "Configure the agent's MCP client with the server's " code { "/mcp" } " URL and the header "
            code { "Authorization: Bearer <token>" } "." }
        p { a href={ "/agents/" (id) } { "← Back to " (id) } }
    };
    page(&session, Section::Agents, &format!("Token for {id}"), body)
}

/// `POST /agents/{id}/grants`
pub(crate) async fn grant(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    SignedForm {
        session,
        form: posted,
    }: SignedForm,
) -> Response {
    let connector = form::value(&posted, "connector").unwrap_or_default().to_owned();
    let operations = form::posted_operations(&posted, "operations");
    match state
        .registry
        .grant(&session.organization, &id, &connector, operations)
        .await
    {
        Ok(_) => Redirect::to(&format!("/agents/{id}?notice=granted")).into_response(),
        Err(error) => detail_page(&state, &session, &id, None, Some(error)).await,
    }
}

/// `POST /agents/{id}/grants/{connector}/revoke`
pub(crate) async fn revoke(
    State(state): State<ConsoleState>,
    Path((id, connector)): Path<(String, String)>,
    SignedForm { session, .. }: SignedForm,
) -> Response {
    match state
        .registry
        .revoke(&session.organization, &id, &connector)
        .await
    {
        Ok(_) => Redirect::to(&format!("/agents/{id}?notice=revoked")).into_response(),
        Err(error) => detail_page(&state, &session, &id, None, Some(error)).await,
    }
}

/// `POST /agents/{id}/delete`
pub(crate) async fn delete(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    SignedForm { session, .. }: SignedForm,
) -> Response {
    match state.registry.delete_agent(&session.organization, &id).await {
        Ok(()) => Redirect::to("/agents?notice=deleted").into_response(),
        Err(error) => detail_page(&state, &session, &id, None, Some(error)).await,
    }
}
