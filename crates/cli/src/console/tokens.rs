//! The tokens page: every token of the organization (admin and agent) with its name, when it was issued,
//! last used and when it expires, and a button to revoke it. Token values are never shown here: a token
//! is shown once, when it is issued.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use tributary_core::Error;

use super::ConsoleState;
use super::layout::{self, NoticeQuery, Section, csrf_field, error_panel, notice, page};
use super::session::{Session, SignedForm};

fn when(at: Option<chrono::DateTime<chrono::Utc>>, none: &str) -> String {
    at.map_or_else(
        || none.to_owned(),
        |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// `GET /tokens`
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    session: Session,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let shown = (query.notice == "revoked").then_some("Token revoked: it no longer works, anywhere.");
    list_page(&state, &session, shown, None).await
}

async fn list_page(
    state: &ConsoleState,
    session: &Session,
    shown_notice: Option<&str>,
    failed: Option<Error>,
) -> Response {
    let tokens = match state.registry.tokens(Some(&session.organization)).await {
        Ok(tokens) => tokens,
        Err(error) => {
            return layout::error_page(
                session,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Tokens",
                &error.report(),
            );
        }
    };
    let body = html! {
        @if let Some(text) = shown_notice { (notice(text)) }
        @if let Some(error) = &failed { (error_panel(&error.report())) }
        p { "Admin tokens sign in here and call the REST API; agent tokens call " code { "/mcp" } ". "
            "Issue agent tokens from an agent's page. Revoking a token ends the console sessions opened with it." }
        @if tokens.is_empty() {
            div class="empty" { h2 { "No tokens" } }
        } @else {
            div class="table-wrap" {
                table {
                    thead { tr {
                        th scope="col" { "Id" } th scope="col" { "Kind" } th scope="col" { "Agent" }
                        th scope="col" { "Name" } th scope="col" { "Issued" } th scope="col" { "Last used" }
                        th scope="col" { "Expires" } th scope="col" { span class="visually-hidden" { "Actions" } }
                    } }
                    tbody {
                        @for token in &tokens {
                            tr {
                                th scope="row" { code { (token.id) } }
                                td { (token.kind) }
                                td { @if let Some(agent) = &token.agent { a href={ "/agents/" (agent) } { (agent) } } }
                                td { (token.name) }
                                td { (when(Some(token.created_at), "")) }
                                td { (when(token.last_used_at, "never")) }
                                td { (when(token.expires_at, "never")) }
                                td {
                                    form method="post" action={ "/tokens/" (token.id) "/revoke" } {
                                        (csrf_field(session))
                                        button type="submit" class="danger" aria-label={ "Revoke token " (token.id) } { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(session, Section::Tokens, "Tokens", body)
}

/// `POST /tokens/{id}/revoke`
pub(crate) async fn revoke(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    SignedForm { session, .. }: SignedForm,
) -> Response {
    match state
        .registry
        .revoke_token_id(Some(&session.organization), &id)
        .await
    {
        Ok(()) => Redirect::to("/tokens?notice=revoked").into_response(),
        Err(error) => {
            let mut response = list_page(&state, &session, None, Some(error)).await;
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    }
}
