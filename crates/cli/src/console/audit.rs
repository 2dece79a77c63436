//! The audit log page: every governed call and connection test of the organization, newest first,
//! filtered by connector, agent, outcome and time.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::html;
use serde::Deserialize;
use tributary_registry::{ADMIN, AuditQuery, Outcome};

use super::ConsoleState;
use super::connectors::audit_table;
use super::layout::{Section, error_panel, filter_select, page};
use super::session::Session;

/// Records per page.
const PAGE: u32 = 50;

/// The filters, as the filter form sends them (empty strings mean "any").
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    connector: String,
    #[serde(default)]
    agent: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    offset: u32,
}

/// A `datetime-local` input's value (or RFC 3339), read as UTC.
fn parse_time(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|at| Some(at.and_utc()))
        .ok_or_else(|| format!("`{text}` is not a time; use the picker or 2026-11-26T09:30"))
}

/// `GET /audit`
pub(crate) async fn log(
    State(state): State<ConsoleState>,
    session: Session,
    filters: Result<Query<Filters>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(filters) = filters.unwrap_or_default();
    let registry = &state.registry;
    let connectors = registry
        .connectors(&session.organization)
        .await
        .unwrap_or_default();
    let agents = registry.agents(&session.organization).await.unwrap_or_default();
    let names: HashMap<String, String> = connectors
        .iter()
        .map(|connector| (connector.id.clone(), connector.name.clone()))
        .collect();
    let outcome = match filters.outcome.as_str() {
        "ok" => Some(Outcome::Ok),
        "denied" => Some(Outcome::Denied),
        "failed" => Some(Outcome::Failed),
        _ => None,
    };
    let times = parse_time(&filters.since).and_then(|since| Ok((since, parse_time(&filters.until)?)));
    let records = match &times {
        Ok((since, until)) => registry
            .audit(&AuditQuery {
                organization: session.organization.clone(),
                connector: Some(filters.connector.clone()).filter(|c| !c.is_empty()),
                agent: Some(filters.agent.clone()).filter(|a| !a.is_empty()),
                since: *since,
                until: *until,
                outcome,
                limit: Some(PAGE),
                offset: Some(filters.offset),
            })
            .await
            .map_err(|error| error.report()),
        Err(message) => Err(tributary_core::Error::invalid_input(message.clone()).report()),
    };
    let older = format!(
        "/audit?connector={}&agent={}&outcome={}&since={}&until={}&offset={}",
        super::session::encode_component(&filters.connector),
        super::session::encode_component(&filters.agent),
        super::session::encode_component(&filters.outcome),
        super::session::encode_component(&filters.since),
        super::session::encode_component(&filters.until),
        filters.offset + PAGE
    );
    let failed = records.is_err();
    let body = html! {
        form class="filters" method="get" action="/audit" role="search" {
            (filter_select(
                "connector",
                "Connector",
                "All connectors",
                connectors.iter().map(|connector| (connector.id.as_str(), connector.name.as_str())),
                &filters.connector,
            ))
            (filter_select(
                "agent",
                "Agent",
                "All agents",
                std::iter::once((ADMIN, "administrators (tests)"))
                    .chain(agents.iter().map(|agent| (agent.id.as_str(), agent.id.as_str()))),
                &filters.agent,
            ))
            (filter_select(
                "outcome",
                "Outcome",
                "Any outcome",
                ["ok", "denied", "failed"].map(|outcome| (outcome, outcome)),
                &filters.outcome,
            ))
            div class="field" {
                label for="since" { "From (UTC)" }
                input id="since" name="since" type="datetime-local" value=(filters.since);
            }
            div class="field" {
                label for="until" { "Until (UTC)" }
                input id="until" name="until" type="datetime-local" value=(filters.until);
            }
            button type="submit" { "Filter" }
        }
        @match &records {
            Err(error) => (error_panel(error)),
            Ok(records) => {
                (audit_table(records, Some(&names)))
                @if records.len() == PAGE as usize {
                    p { a href=(older) { "Older records" } }
                }
            }
        }
    };
    let mut response = page(&session, Section::Audit, "Audit log", body);
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_from_the_picker_and_rfc3339_are_read_as_utc() {
        let picked = parse_time("2026-11-26T09:30").unwrap().unwrap();
        assert_eq!(picked.to_rfc3339(), "2026-11-26T09:30:00+00:00");
        let offset = parse_time("2026-11-26T10:30:00+01:00").unwrap().unwrap();
        assert_eq!(offset, picked);
        assert_eq!(parse_time(" ").unwrap(), None);
        assert!(parse_time("yesterday").unwrap_err().contains("yesterday"));
    }
}
