//! Signing in with an admin token and signing out.
//!
//! The sign-in form is protected by a double-submit token: a random value in a cookie that only this
//! path receives and in a hidden field, which a page of another site cannot read or set.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use tributary_registry::Principal;

use super::ConsoleState;
use super::session::{
    SESSION_SECONDS, SIGN_IN_COOKIE, Session, SignedForm, cookie, expired_session_cookie, is_local_path,
    session_cookie,
};

/// Where to go after signing in.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Next {
    #[serde(default)]
    next: String,
}

fn random_token() -> Option<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).ok()?;
    Some(hex::encode(bytes))
}

fn form_page(status: StatusCode, next: &str, problem: Option<&str>) -> Response {
    let Some(nonce) = random_token() else {
        return super::layout::bare_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign in",
            html! { p role="alert" { "The server has no source of randomness; sign-in is unavailable." } },
        );
    };
    let body = html! {
        p { "Paste an admin token. It scopes everything you see and change to its organization." }
        @if let Some(problem) = problem {
            div class="panel error" role="alert" id="sign-in-error" { p { (problem) } }
        }
        form method="post" action="/sign-in" class="stack" {
            input type="hidden" name="nonce" value=(nonce);
            input type="hidden" name="next" value=(next);
            div class="field" {
                label for="token" { "Admin token" }
                input id="token" name="token" type="password" required autocomplete="current-password"
                    spellcheck="false" aria-describedby="token-help" autofocus;
                p class="help" id="token-help" {
                    "Printed by " code { "tributary serve" } " on start, or made with "
                    code { "tributary tokens issue --admin ORG" } "."
                }
            }
            button type="submit" class="primary" { "Sign in" }
        }
    };
    let mut response = super::layout::bare_page(status, "Sign in", body);
    if let Ok(value) =
        format!("{SIGN_IN_COOKIE}={nonce}; Path=/sign-in; Max-Age=1800; HttpOnly; Secure; SameSite=Strict")
            .parse()
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `GET /sign-in`
pub(crate) async fn page(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(next): Query<Next>,
) -> Response {
    if Session::of(&state.registry, &headers).await.is_ok() {
        return Redirect::to(safe_next(&next.next)).into_response();
    }
    form_page(StatusCode::OK, &next.next, None)
}

fn safe_next(next: &str) -> &str {
    if is_local_path(next) && !next.starts_with("/sign-in") {
        next
    } else {
        "/connectors"
    }
}

/// The sign-in form.
#[derive(Deserialize)]
pub(crate) struct SignIn {
    #[serde(default)]
    token: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    next: String,
}

/// `POST /sign-in`
pub(crate) async fn submit(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    if form.nonce.is_empty() || cookie(&headers, SIGN_IN_COOKIE) != Some(form.nonce.as_str()) {
        return form_page(
            StatusCode::FORBIDDEN,
            &form.next,
            Some("This sign-in form expired or did not come from this console. Try again."),
        );
    }
    let token = form.token.trim();
    let lifetime = std::time::Duration::from_secs(u64::from(SESSION_SECONDS));
    match state.registry.open_session(token, lifetime).await {
        Ok((session, Principal::Admin { .. })) => {
            let mut response = Redirect::to(safe_next(&form.next)).into_response();
            if let Ok(value) = session_cookie(&session).parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            if let Ok(value) =
                format!("{SIGN_IN_COOKIE}=; Path=/sign-in; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
                    .parse()
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Ok((session, Principal::Agent { .. })) => {
            state.registry.end_session(&session);
            form_page(
                StatusCode::FORBIDDEN,
                &form.next,
                Some(
                    "That is an agent token. The console needs an admin token (tributary tokens issue --admin ORG).",
                ),
            )
        }
        Err(_) => form_page(
            StatusCode::UNAUTHORIZED,
            &form.next,
            Some(
                "That token is not a valid admin token. Check that it was copied whole, or issue a new one with tributary tokens issue --admin ORG.",
            ),
        ),
    }
}

/// `POST /sign-out`: ends the session on the server, then clears the cookie.
pub(crate) async fn sign_out(State(state): State<ConsoleState>, signed: SignedForm) -> Response {
    signed.session.end(&state.registry);
    let mut response = Redirect::to("/sign-in").into_response();
    if let Ok(value) = expired_session_cookie().parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
