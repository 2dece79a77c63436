//! The page shell every console page shares, the small components pages are built from, and the
//! security headers every console response carries.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use tributary_core::{CheckReport, ErrorReport};
use tributary_registry::{Outcome, Status};

use super::session::Session;

/// No inline script or style may run; forms and scripts talk only to this server.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Adds the console's security headers to every response of its routes.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // The OAuth callback's URL carries a code: never send it on as a referrer.
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A notice a redirect asks the next page to show, by code; pages map codes to fixed texts, so a link
/// cannot make the console say anything else.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct NoticeQuery {
    #[serde(default)]
    pub(crate) notice: String,
}

/// Which section of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Connectors,
    Agents,
    Tokens,
    Audit,
    None,
}

/// The `<head>` of every page. Only signed-in pages carry the CSRF token and the script that uses it.
fn head(title: &str, csrf: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            @if let Some(csrf) = csrf { meta name="csrf-token" content=(csrf); }
            title { (title) " · Tributary" }
            link rel="stylesheet" href="/assets/console.css";
            @if csrf.is_some() { script src="/assets/console.js" defer {} }
        }
    }
}

/// A whole page for a signed-in administrator.
pub(crate) fn page(session: &Session, section: Section, title: &str, body: Markup) -> Response {
    let nav_link = |href: &str, label: &str, this: Section| {
        html! {
            @if section == this {
                a href=(href) aria-current="page" { (label) }
            } @else {
                a href=(href) { (label) }
            }
        }
    };
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, Some(&session.csrf)))
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    a class="brand" href="/connectors" { "Tributary" }
                    nav aria-label="Main" {
                        (nav_link("/connectors", "Connectors", Section::Connectors))
                        (nav_link("/agents", "Agents", Section::Agents))
                        (nav_link("/tokens", "Tokens", Section::Tokens))
                        (nav_link("/audit", "Audit log", Section::Audit))
                    }
                    form class="sign-out" method="post" action="/sign-out" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        span class="org" { "Organization " strong { (session.organization) } }
                        button type="submit" class="link" { "Sign out" }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    Html(markup.into_string()).into_response()
}

/// A page for someone not signed in (the sign-in page and its errors).
pub(crate) fn bare_page(status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, None))
            body class="bare" {
                main id="main" {
                    p class="brand" { "Tributary" }
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    (status, Html(markup.into_string())).into_response()
}

/// A page that explains a failure and what to do.
pub(crate) fn error_page(
    session: &Session,
    status: StatusCode,
    title: &str,
    error: &ErrorReport,
) -> Response {
    let mut response = page(session, Section::None, title, error_panel(error));
    *response.status_mut() = status;
    response
}

/// A posted form whose CSRF token is missing or stale.
pub(crate) fn forbidden_form(session: &Session) -> Response {
    let report =
        tributary_core::Error::permission_denied("this form did not carry a valid token for your session")
            .with_hint("reload the page and submit it again; forms expire when you sign out or sign in again")
            .report();
    error_page(session, StatusCode::FORBIDDEN, "Form refused", &report)
}

/// An error with its hint, announced to screen readers.
pub(crate) fn error_panel(error: &ErrorReport) -> Markup {
    html! {
        div class="panel error" role="alert" {
            p { strong { "Error (" (error.kind.code()) "): " } (error.message) }
            @if !error.hint.is_empty() {
                p class="hint" { (error.hint) }
            }
            @if !error.fields.is_empty() {
                ul {
                    @for field in &error.fields {
                        li { a href={ "#f-" (field.field) } { code { (field.field) } } " " (field.message) }
                    }
                }
            }
        }
    }
}

/// A short note that something worked.
pub(crate) fn notice(text: &str) -> Markup {
    html! { div class="panel ok" role="status" { p { (text) } } }
}

/// A connector's status as a badge; the word is always shown, so colour is never the only signal.
pub(crate) fn status_badge(status: Status) -> Markup {
    let (class, label) = match status {
        Status::Connected => ("badge ok", "connected"),
        Status::Error => ("badge bad", "error"),
        Status::Disabled => ("badge off", "disabled"),
    };
    html! { span class=(class) { (label) } }
}

/// An audit outcome as a badge.
pub(crate) fn outcome_badge(outcome: Outcome) -> Markup {
    let class = match outcome {
        Outcome::Ok => "badge ok",
        Outcome::Denied => "badge warn",
        Outcome::Failed => "badge bad",
    };
    html! { span class=(class) { (outcome.as_str()) } }
}

/// A connection check's result: latency and server, or the error and its hint.
pub(crate) fn check_report(report: &CheckReport) -> Markup {
    html! {
        @if let Some(error) = &report.error {
            div class="panel error report" {
                p { strong { "Could not connect" } " after " (format!("{:.0}", report.latency_ms)) " ms" }
                p { strong { (error.kind.code()) ": " } (error.message) }
                @if !error.hint.is_empty() { p class="hint" { (error.hint) } }
            }
        } @else {
            div class="panel ok report" {
                p { strong { "Connected" } " in " (format!("{:.0}", report.latency_ms)) " ms" }
                @if let Some(server) = &report.server {
                    p {
                        (server.product)
                        @if let Some(version) = &server.version { " " (version) }
                    }
                    @if !server.details.is_empty() {
                        dl class="details" {
                            @for (key, value) in &server.details {
                                dt { (key) }
                                dd { (plain(value)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A JSON value as text: strings without their quotes.
pub(crate) fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A time as administrators read it (UTC, to the second).
pub(crate) fn time(at: &chrono::DateTime<chrono::Utc>) -> Markup {
    html! { time datetime=(at.to_rfc3339()) { (at.format("%Y-%m-%d %H:%M:%S UTC")) } }
}

/// A labelled select of a filter form: "any" first (the empty value), then `options` as (value, label).
pub(crate) fn filter_select<'a>(
    name: &str,
    label: &str,
    any: &str,
    options: impl IntoIterator<Item = (&'a str, &'a str)>,
    selected: &str,
) -> Markup {
    html! {
        div class="field" {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                option value="" { (any) }
                @for (value, text) in options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub(crate) fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}
