//! Connector pages: the list, the creation wizard of each type, a connector's detail (settings, test,
//! agents, recent activity), and its schema browser.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use tributary_core::{CheckReport, ConnectorSpec, Error, ErrorKind, ErrorReport};
use tributary_registry::{
    AuditQuery, ConnectorUpdate, ConnectorView, Governance, NewConnector, Origin, Status,
};

use super::ConsoleState;
use super::form::{self, Current, FieldErrors, Posted};
use super::layout::NoticeQuery;
use super::layout::{
    self, Section, check_report, csrf_field, error_panel, notice, outcome_badge, page, status_badge, time,
};
use super::session::{Session, SignedForm};

/// The list's filters and a notice to show after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    connector_type: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    notice: String,
}

/// Notices a redirect may ask for; only these fixed texts are ever shown.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "Connector saved and tested.",
        "saved" => "Changes saved.",
        "secrets-dropped" => {
            "Changes saved. The connector now connects somewhere else, so its stored secrets were removed: enter them again below."
        }
        "deleted" => "Connector deleted.",
        "tested" => "Connection tested.",
        "enabled" => "Connector enabled: agents with a grant can use it again.",
        "disabled" => "Connector disabled: every call to it is refused.",
        "salesforce" => "Connected with Salesforce and saved.",
        _ => return None,
    })
}

fn failure(session: &Session, error: &Error) -> Response {
    let status = match error.kind() {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidInput | ErrorKind::InvalidConfig => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    layout::error_page(session, status, "Something went wrong", &error.report())
}

fn spec_of(state: &ConsoleState, connector_type: &str) -> Result<ConnectorSpec, Error> {
    state
        .registry
        .connector_types()
        .into_iter()
        .find(|spec| spec.connector_type == connector_type)
        .ok_or_else(|| {
            Error::not_found(format!("this server offers no connector type `{connector_type}`"))
                .with_hint("pick one of the types listed on the new connector page")
        })
}

/// `GET /connectors`
pub(crate) async fn list(
    State(state): State<ConsoleState>,
    session: Session,
    Query(query): Query<ListQuery>,
) -> Response {
    let connectors = match state.registry.connectors(&session.organization).await {
        Ok(connectors) => connectors,
        Err(error) => return failure(&session, &error),
    };
    let types = state.registry.connector_types();
    let needle = query.q.trim().to_lowercase();
    let shown: Vec<&ConnectorView> = connectors
        .iter()
        .filter(|c| needle.is_empty() || c.name.to_lowercase().contains(&needle))
        .filter(|c| query.connector_type.is_empty() || c.connector_type == query.connector_type)
        .filter(|c| query.status.is_empty() || status_name(c.status) == query.status)
        .collect();
    let body = html! {
        @if let Some(text) = notice_text(&query.notice) { (notice(text)) }
        div class="toolbar" {
            form class="filters" method="get" action="/connectors" role="search" {
                div class="field" {
                    label for="q" { "Search" }
                    input id="q" name="q" type="search" value=(query.q) placeholder="name";
                }
                (layout::filter_select(
                    "type",
                    "Type",
                    "All types",
                    types.iter().map(|spec| (spec.connector_type.as_str(), spec.display_name.as_str())),
                    &query.connector_type,
                ))
                (layout::filter_select(
                    "status",
                    "Status",
                    "Any status",
                    ["connected", "error", "disabled"].map(|status| (status, status)),
                    &query.status,
                ))
                button type="submit" { "Filter" }
            }
            a class="button primary" href="/connectors/new" { "New connector" }
        }
        @if connectors.is_empty() {
            div class="empty" {
                h2 { "No connectors yet" }
                p { "A connector holds the settings and credentials for one database, bucket or SaaS org. Agents only reach data through connectors you grant them." }
                a class="button primary" href="/connectors/new" { "Create your first connector" }
            }
        } @else if shown.is_empty() {
            div class="empty" {
                p { "No connector matches these filters." }
                a href="/connectors" { "Clear the filters" }
            }
        } @else {
            div class="table-wrap" {
                table {
                    caption class="visually-hidden" { "Connectors" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Type" } th scope="col" { "Status" } th scope="col" { "Last test" } th scope="col" { "Agents" } } }
                    tbody {
                        @for connector in &shown {
                            tr {
                                th scope="row" { a href={ "/connectors/" (connector.id) } { (connector.name) } }
                                td { (display_name(&types, &connector.connector_type)) }
                                td { (status_badge(connector.status)) }
                                td {
                                    @match &connector.last_test {
                                        Some(test) => {
                                            (time(&test.at)) br;
                                            @if let Some(error) = &test.report.error {
                                                span class="bad-text" { (error.kind.code()) }
                                            } @else {
                                                span { "ok, " (format!("{:.0}", test.report.latency_ms)) " ms" }
                                            }
                                        }
                                        None => span class="muted" { "never" },
                                    }
                                }
                                td {
                                    @if connector.grants.is_empty() { span class="muted" { "none" } }
                                    @for (index, grant) in connector.grants.iter().enumerate() {
                                        @if index > 0 { ", " }
                                        a href={ "/agents/" (grant.agent) } { (grant.agent) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(&session, Section::Connectors, "Connectors", body)
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Connected => "connected",
        Status::Error => "error",
        Status::Disabled => "disabled",
    }
}

fn display_name(types: &[ConnectorSpec], connector_type: &str) -> String {
    types
        .iter()
        .find(|spec| spec.connector_type == connector_type)
        .map_or_else(|| connector_type.to_owned(), |spec| spec.display_name.clone())
}

/// `GET /connectors/new`: pick a type.
pub(crate) async fn choose_type(State(state): State<ConsoleState>, session: Session) -> Response {
    let types = state.registry.connector_types();
    let body = html! {
        p { "Pick the kind of data source. The next page asks for its settings, tests the connection and then sets what agents may do with it." }
        ul class="cards" {
            @for spec in &types {
                li class="card" {
                    h2 { a href={ "/connectors/new/" (spec.connector_type) } { (spec.display_name) } }
                    p { (spec.description) }
                }
            }
        }
    };
    page(&session, Section::Connectors, "New connector", body)
}

/// Everything the wizard shows besides the spec.
#[derive(Default)]
pub(crate) struct WizardState<'a> {
    pub(crate) typed: Option<&'a Posted>,
    pub(crate) governance: Option<Governance>,
    pub(crate) errors: FieldErrors,
    pub(crate) summary: Option<ErrorReport>,
    pub(crate) report: Option<CheckReport>,
}

pub(crate) fn wizard_page(session: &Session, spec: &ConnectorSpec, state: WizardState<'_>) -> Response {
    let empty = Posted::new();
    let typed = state.typed.unwrap_or(&empty);
    let governance = state.governance.clone().unwrap_or_default();
    let has_secrets = spec.fields.iter().any(|field| field.secret);
    let action = format!("/connectors/new/{}", spec.connector_type);
    let name_error = state.errors.get("name");
    let body = html! {
        ol class="steps" aria-label="Steps" {
            li { a href="#step-settings" { "Settings" } }
            li { a href="#step-test" { "Test connection" } }
            li { a href="#step-policy" { "Policy" } }
            li { a href="#step-save" { "Save" } }
        }
        @if let Some(summary) = &state.summary { (error_panel(summary)) }
        @if state.typed.is_some() && has_secrets {
            p class="panel note" { "Secret fields are never sent back to the browser: type them again before you test or save." }
        }
        form id="connector-form" method="post" action=(action) data-connector-type=(spec.connector_type) {
            (csrf_field(session))
            section aria-labelledby="step-settings" {
                h2 id="step-settings" { "1. Settings" }
                p class="muted" { (spec.description) }
                div class={ "field" @if name_error.is_some() { " invalid" } } {
                    label for="f-name" { "Connector name " abbr class="required" title="required" { "*" } }
                    input id="f-name" name="name" type="text" required autocomplete="off" spellcheck="false"
                        value=[form::value(typed, "name")] aria-describedby="help-f-name error-f-name"
                        pattern="[A-Za-z0-9_-]{1,64}";
                    p class="help" id="help-f-name" { "How agents and administrators refer to it: letters, digits, _ and -." }
                    p class="field-error" id="error-f-name" data-field="name" { @if let Some(error) = name_error { (error) } }
                }
                (form::config_fields(spec, &Current::New { typed }, &state.errors))
            }
            section aria-labelledby="step-test" {
                h2 id="step-test" { "2. Test connection" }
                p { "Connects with these settings without saving them, and shows what the server said." }
                div class="actions" {
                    button type="submit" name="action" value="test" id="test-connection" data-test-config { "Test connection" }
                    @if spec.connector_type == "salesforce" {
                        button type="submit" formaction="/connectors/new/salesforce/oauth" formnovalidate id="connect-salesforce" {
                            "Connect with Salesforce"
                        }
                    }
                }
                @if spec.connector_type == "salesforce" {
                    p class="help" {
                        "Connect with Salesforce signs you in at the login host and stores a refresh token: fill in the name, login host, consumer key and (if your connected app has one) consumer secret first. The connected app's callback URL must be this server's /oauth/salesforce/callback."
                    }
                }
                div id="test-result" aria-live="polite" {
                    @if let Some(report) = &state.report { (check_report(report)) }
                }
            }
            section aria-labelledby="step-policy" {
                h2 id="step-policy" { "3. Policy" }
                (form::policy_fields(&governance, &state.errors))
            }
            section aria-labelledby="step-save" {
                h2 id="step-save" { "4. Save" }
                p { "Saving encrypts the settings, tests the connection once more and records the test in the audit log." }
                div class="actions" {
                    button type="submit" name="action" value="save" class="primary" id="save-connector" { "Save connector" }
                    a href="/connectors" { "Cancel" }
                }
            }
        }
    };
    let title = format!("New {} connector", spec.display_name);
    let mut response = page(session, Section::Connectors, &title, body);
    if state.summary.is_some() || !state.errors.is_empty() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// `GET /connectors/new/{type}`
pub(crate) async fn wizard(
    State(state): State<ConsoleState>,
    session: Session,
    Path(connector_type): Path<String>,
) -> Response {
    match spec_of(&state, &connector_type) {
        Ok(spec) => wizard_page(&session, &spec, WizardState::default()),
        Err(error) => failure(&session, &error),
    }
}

/// A new connector as a posted wizard form gives it: name, config and policy, all checked by the console.
pub(crate) struct PostedConnector {
    pub(crate) name: String,
    pub(crate) config: serde_json::Map<String, Value>,
    pub(crate) governance: Governance,
}

/// Reads a posted wizard form for saving. When the name or a policy setting is wrong, the wizard comes
/// back with the errors next to their inputs; the returned view keeps what was typed for later errors.
pub(crate) fn read_new<'a>(
    session: &Session,
    spec: &ConnectorSpec,
    posted: &'a Posted,
) -> Result<(PostedConnector, WizardState<'a>), Box<Response>> {
    let mut view = WizardState {
        typed: Some(posted),
        ..WizardState::default()
    };
    let governance = match form::posted_governance(posted) {
        Ok(governance) => governance,
        Err(errors) => {
            view.errors = errors;
            view.summary = Some(Error::invalid_input("some policy settings are not valid").report());
            return Err(Box::new(wizard_page(session, spec, view)));
        }
    };
    view.governance = Some(governance.clone());
    let name = form::value(posted, "name").unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        view.errors.insert("name".into(), "is required".into());
        view.summary = Some(Error::invalid_input("give the connector a name").report());
        return Err(Box::new(wizard_page(session, spec, view)));
    }
    let config = form::posted_config(spec, posted, false);
    Ok((
        PostedConnector {
            name,
            config,
            governance,
        },
        view,
    ))
}

/// `POST /connectors/new/{type}`: test (without scripts) or save.
pub(crate) async fn create(
    State(state): State<ConsoleState>,
    Path(connector_type): Path<String>,
    SignedForm {
        session,
        form: posted,
    }: SignedForm,
) -> Response {
    let spec = match spec_of(&state, &connector_type) {
        Ok(spec) => spec,
        Err(error) => return failure(&session, &error),
    };
    if form::value(&posted, "action") == Some("test") {
        let mut view = WizardState {
            typed: Some(&posted),
            governance: form::posted_governance(&posted).ok(),
            ..WizardState::default()
        };
        let config = form::posted_config(&spec, &posted, false);
        match state
            .registry
            .test_config(&connector_type, &Value::Object(config), Origin::Tenant)
            .await
        {
            Ok(report) => view.report = Some(report),
            Err(error) => {
                view.errors = form::field_errors(&error.report());
                view.summary = Some(error.report());
            }
        }
        return wizard_page(&session, &spec, view);
    }
    let (
        PostedConnector {
            name,
            config,
            governance,
        },
        mut view,
    ) = match read_new(&session, &spec, &posted) {
        Ok(read) => read,
        Err(page) => return *page,
    };
    let new = NewConnector {
        name,
        connector_type,
        config: Value::Object(config),
        governance,
    };
    match save_and_test(&state, &session, new, "created").await {
        Ok(saved) => saved,
        Err(error) => {
            let report = error.report();
            view.errors = form::field_errors(&report);
            view.summary = Some(report);
            wizard_page(&session, &spec, view)
        }
    }
}

/// Saves a new connector, then tests it once: that gives it a status, and puts the test in the audit log.
/// Answers with the redirect to its page, showing `notice`.
pub(crate) async fn save_and_test(
    state: &ConsoleState,
    session: &Session,
    new: NewConnector,
    notice: &str,
) -> Result<Response, Error> {
    let created = state
        .registry
        .create_connector(&session.organization, new, Origin::Tenant)
        .await?;
    // A failed test is recorded on the connector and shown on its page; saving still succeeded.
    let _ = state
        .registry
        .test_connection(&session.organization, &created.id)
        .await;
    Ok(Redirect::to(&format!("/connectors/{}?notice={notice}", created.id)).into_response())
}

/// `GET /connectors/{id}`
pub(crate) async fn detail(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    detail_page(
        &state,
        &session,
        &id,
        notice_text(&query.notice),
        None,
        FieldErrors::new(),
    )
    .await
}

async fn detail_page(
    state: &ConsoleState,
    session: &Session,
    id: &str,
    shown_notice: Option<&str>,
    summary: Option<ErrorReport>,
    errors: FieldErrors,
) -> Response {
    let connector = match state.registry.connector(&session.organization, id).await {
        Ok(connector) => connector,
        Err(error) => return failure(session, &error),
    };
    let spec = match spec_of(state, &connector.connector_type) {
        Ok(spec) => spec,
        Err(error) => return failure(session, &error),
    };
    let recent = state
        .registry
        .audit(&AuditQuery {
            organization: session.organization.clone(),
            connector: Some(connector.id.clone()),
            limit: Some(10),
            ..AuditQuery::default()
        })
        .await
        .unwrap_or_default();
    let failed = summary.is_some();
    let toggle = if connector.status == Status::Disabled {
        ("connected", "Enable")
    } else {
        ("disabled", "Disable")
    };
    let body = html! {
        @if let Some(text) = shown_notice { (notice(text)) }
        @if let Some(summary) = &summary { (error_panel(summary)) }
        p class="meta" {
            (spec.display_name) " · " (status_badge(connector.status)) " · created " (time(&connector.created_at))
        }
        div class="actions" {
            form method="post" action={ "/connectors/" (connector.id) "/test" } {
                (csrf_field(session))
                button type="submit" class="primary" id="test-connection" data-test-connector=(connector.id) { "Test connection" }
            }
            a class="button" href={ "/connectors/" (connector.id) "/schema" } { "Browse schema" }
            form method="post" action={ "/connectors/" (connector.id) "/status" } {
                (csrf_field(session))
                input type="hidden" name="status" value=(toggle.0);
                button type="submit" { (toggle.1) }
            }
            form method="post" action={ "/connectors/" (connector.id) "/delete" } data-confirm={ "Delete connector " (connector.name) " and its grants?" } {
                (csrf_field(session))
                button type="submit" class="danger" { "Delete" }
            }
        }
        section aria-labelledby="last-test" {
            h2 id="last-test" { "Last test" }
            div id="test-result" aria-live="polite" {
                @match &connector.last_test {
                    Some(test) => { p class="muted" { "Tested " (time(&test.at)) } (check_report(&test.report)) }
                    None => p class="muted" { "Never tested." },
                }
            }
        }
        section aria-labelledby="agents" {
            h2 id="agents" { "Agents" }
            @if connector.grants.is_empty() {
                p class="empty" { "No agent may use this connector yet. " a href="/agents" { "Grant it to an agent" } "." }
            } @else {
                div class="table-wrap" {
                    table {
                        thead { tr { th scope="col" { "Agent" } th scope="col" { "Operations" } } }
                        tbody {
                            @for grant in &connector.grants {
                                tr {
                                    th scope="row" { a href={ "/agents/" (grant.agent) } { (grant.agent) } }
                                    td { (grant.operations.iter().map(|class| class.as_str()).collect::<Vec<_>>().join(", ")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="activity" {
            h2 id="activity" { "Recent activity" }
            (audit_table(&recent, None))
            p { a href={ "/audit?connector=" (connector.id) } { "Whole audit log of this connector" } }
        }
        section aria-labelledby="settings" {
            h2 id="settings" { "Settings" }
            form method="post" action={ "/connectors/" (connector.id) "/settings" } {
                (csrf_field(session))
                @if connector.origin == Origin::Operator {
                    p class="muted" id="operator-declared" {
                        "Declared by the server's operator: its name and connection settings are kept in the server's configuration. Its policy below is yours to set."
                    }
                } @else {
                    div class={ "field" @if errors.contains_key("name") { " invalid" } } {
                        label for="f-name" { "Connector name" }
                        input id="f-name" name="name" type="text" required value=(connector.name)
                            aria-describedby="error-f-name" pattern="[A-Za-z0-9_-]{1,64}";
                        p class="field-error" id="error-f-name" { @if let Some(error) = errors.get("name") { (error) } }
                    }
                    p class="muted" {
                        "Changing where it connects (host, port, URL, endpoint, path, TLS) removes its stored secrets: enter them again with the change."
                    }
                    (form::config_fields(&spec, &Current::Saved(&connector.config), &errors))
                }
                (form::policy_fields(&connector.governance, &errors))
                div class="actions" {
                    button type="submit" class="primary" { "Save changes" }
                }
            }
        }
    };
    let mut response = page(session, Section::Connectors, &connector.name, body);
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// Audit records as a table; `connectors` maps ids to names when records span several connectors.
pub(crate) fn audit_table(
    records: &[tributary_registry::AuditRecord],
    connectors: Option<&std::collections::HashMap<String, String>>,
) -> Markup {
    html! {
        @if records.is_empty() {
            p class="empty" { "No activity recorded yet." }
        } @else {
            div class="table-wrap" {
                table class="audit" {
                    thead {
                        tr {
                            th scope="col" { "Time" }
                            th scope="col" { "Agent" }
                            @if connectors.is_some() { th scope="col" { "Connector" } }
                            th scope="col" { "Operation" }
                            th scope="col" { "Objects" }
                            th scope="col" { "Outcome" }
                            th scope="col" { "Rows" }
                            th scope="col" { "ms" }
                        }
                    }
                    tbody {
                        @for record in records {
                            tr {
                                td { (time(&record.at)) }
                                td { (record.agent) }
                                @if let Some(names) = connectors {
                                    td {
                                        a href={ "/connectors/" (record.connector) } {
                                            (names.get(&record.connector).cloned().unwrap_or_else(|| record.connector.clone()))
                                        }
                                    }
                                }
                                td { code { (record.operation) } @if record.cached { " " span class="badge off" { "cached" } } }
                                td { (record.objects.join(", ")) }
                                td {
                                    (outcome_badge(record.outcome))
                                    @if let Some(kind) = &record.error_kind { " " code { (kind) } }
                                }
                                td class="num" { (record.rows) }
                                td class="num" { (record.duration_ms) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /connectors/{id}/settings`
pub(crate) async fn update(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    SignedForm {
        session,
        form: posted,
    }: SignedForm,
) -> Response {
    let connector = match state.registry.connector(&session.organization, &id).await {
        Ok(connector) => connector,
        Err(error) => return failure(&session, &error),
    };
    let spec = match spec_of(&state, &connector.connector_type) {
        Ok(spec) => spec,
        Err(error) => return failure(&session, &error),
    };
    let governance = match form::posted_governance(&posted) {
        Ok(governance) => governance,
        Err(errors) => {
            let summary = Error::invalid_input("some policy settings are not valid").report();
            return detail_page(&state, &session, &id, None, Some(summary), errors).await;
        }
    };
    let name = form::value(&posted, "name").unwrap_or_default().trim().to_owned();
    // An operator's connector keeps its name and settings; the form shows only its policy.
    let own = connector.origin == Origin::Tenant;
    let update = ConnectorUpdate {
        name: Some(name).filter(|name| own && *name != connector.name),
        config: own.then(|| Value::Object(form::posted_config(&spec, &posted, true))),
        governance: Some(governance),
        status: None,
    };
    match state
        .registry
        .update_connector(&session.organization, &id, update, Origin::Tenant)
        .await
    {
        Ok(view) if !view.dropped_secrets.is_empty() => {
            Redirect::to(&format!("/connectors/{id}?notice=secrets-dropped#settings")).into_response()
        }
        Ok(_) => Redirect::to(&format!("/connectors/{id}?notice=saved")).into_response(),
        Err(error) => {
            let report = error.report();
            let errors = form::field_errors(&report);
            detail_page(&state, &session, &id, None, Some(report), errors).await
        }
    }
}

/// `POST /connectors/{id}/test` (the button without scripts; with scripts it calls the REST API).
pub(crate) async fn test(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    SignedForm { session, .. }: SignedForm,
) -> Response {
    match state.registry.test_connection(&session.organization, &id).await {
        Ok(_) => Redirect::to(&format!("/connectors/{id}?notice=tested#last-test")).into_response(),
        Err(error) => failure(&session, &error),
    }
}

/// `POST /connectors/{id}/status`: enable or disable.
pub(crate) async fn set_status(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    SignedForm {
        session,
        form: posted,
    }: SignedForm,
) -> Response {
    let (status, shown) = match form::value(&posted, "status").unwrap_or_default() {
        "disabled" => (Status::Disabled, "disabled"),
        _ => (Status::Connected, "enabled"),
    };
    let update = ConnectorUpdate {
        status: Some(status),
        ..ConnectorUpdate::default()
    };
    match state
        .registry
        .update_connector(&session.organization, &id, update, Origin::Tenant)
        .await
    {
        Ok(_) => Redirect::to(&format!("/connectors/{id}?notice={shown}")).into_response(),
        Err(error) => failure(&session, &error),
    }
}

/// `POST /connectors/{id}/delete`
pub(crate) async fn delete(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    SignedForm { session, .. }: SignedForm,
) -> Response {
    match state.registry.delete_connector(&session.organization, &id).await {
        Ok(()) => Redirect::to("/connectors?notice=deleted").into_response(),
        Err(error) => failure(&session, &error),
    }
}

/// `GET /connectors/{id}/schema`: the objects discovery finds, each with its fields.
pub(crate) async fn schema(
    State(state): State<ConsoleState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let connector = match state.registry.connector(&session.organization, &id).await {
        Ok(connector) => connector,
        Err(error) => return failure(&session, &error),
    };
    let catalog = state.registry.schema(&session.organization, &id).await;
    let title = format!("Schema of {}", connector.name);
    let body = html! {
        p { a href={ "/connectors/" (connector.id) } { "← Back to " (connector.name) } }
        @match &catalog {
            Err(error) => (error_panel(&error.report())),
            Ok(catalog) if catalog.objects.is_empty() => {
                p class="empty" { "Discovery found no objects this connector may show." }
            }
            Ok(catalog) => {
                p class="muted" {
                    (catalog.objects.len()) " objects"
                    @if catalog.truncated { " (discovery stopped at its limit; more exist)" }
                    ". Open one to see its fields."
                }
                ul class="objects" {
                    @for object in &catalog.objects {
                        li {
                            details {
                                summary {
                                    strong { (object.name) } " "
                                    span class="muted" {
                                        (layout::plain(&json!(object.kind)))
                                        @if let Some(rows) = object.row_estimate { " · ~" (rows) " rows" }
                                    }
                                }
                                @if let Some(description) = &object.description { p { (description) } }
                                @if object.fields.is_empty() {
                                    p class="muted" { "No fields." }
                                } @else {
                                    div class="table-wrap" {
                                        table {
                                            thead { tr { th scope="col" { "Field" } th scope="col" { "Type" } th scope="col" { "Nullable" } th scope="col" { "Key" } } }
                                            tbody {
                                                @for field in &object.fields {
                                                    tr {
                                                        th scope="row" { code { (field.name) } }
                                                        td { (field.native_type) }
                                                        td { @if field.nullable { "yes" } @else { "no" } }
                                                        td { @if field.primary_key { "primary" } }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(&session, Section::Connectors, &title, body)
}
