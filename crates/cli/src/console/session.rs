//! Who is signed in to the console, and proof that a form came from the console.
//!
//! Sessions are server-side (see `Registry::open_session`): the cookie (HttpOnly, Secure, SameSite=Lax)
//! holds a random session id, never the admin token; each request looks the session up and checks its
//! token again, so signing out ends the session and revoking the token ends every session opened with
//! it. Every form and every script call carries a CSRF token derived from the session id with
//! HMAC-SHA256: a page of another site can neither read it nor compute it.

use std::sync::Arc;

use axum::Form;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tributary_core::{Error, ErrorKind};
use tributary_registry::{Principal, Registry};

/// The cookie that carries the session id.
pub const SESSION_COOKIE: &str = "tributary_session";
/// The cookie that protects the sign-in form itself (double submit).
pub(crate) const SIGN_IN_COOKIE: &str = "tributary_sign_in";
/// The header scripts send the CSRF token in when they call the REST API with the session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a console session lasts.
pub(crate) const SESSION_SECONDS: u32 = 8 * 60 * 60;

/// The CSRF token of a session (`None` only if HMAC refused the key, which it never does for HMAC).
pub(crate) fn csrf_token(session_token: &str) -> Option<String> {
    mac(session_token).map(|mac| hex::encode(mac.finalize().into_bytes()))
}

/// Whether `given` is the CSRF token of `session_token` (compared in constant time).
pub(crate) fn csrf_matches(session_token: &str, given: &str) -> bool {
    match (hex::decode(given.trim()), mac(session_token)) {
        (Ok(bytes), Some(mac)) => mac.verify_slice(&bytes).is_ok(),
        _ => false,
    }
}

fn mac(session_token: &str) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(session_token.as_bytes()).ok()?;
    mac.update(b"tributary console csrf v1");
    Some(mac)
}

/// The value of cookie `name` in a request's headers.
pub(crate) fn cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// `Set-Cookie` for a new session.
pub(crate) fn session_cookie(session: &str) -> String {
    format!("{SESSION_COOKIE}={session}; Path=/; Max-Age={SESSION_SECONDS}; HttpOnly; Secure; SameSite=Lax")
}

/// `Set-Cookie` that ends a session.
pub(crate) fn expired_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

/// A signed-in administrator: the organization every page is scoped to, and the session's CSRF token.
#[derive(Clone)]
pub(crate) struct Session {
    pub(crate) organization: String,
    pub(crate) csrf: String,
    id: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("organization", &self.organization)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Whether a posted form's CSRF field belongs to this session.
    pub(crate) fn accepts(&self, csrf: Option<&str>) -> bool {
        csrf.is_some_and(|given| csrf_matches(&self.id, given))
    }

    /// Ends this session on the server (signing out).
    pub(crate) fn end(&self, registry: &Registry) {
        registry.end_session(&self.id);
    }

    /// The session of a request's cookie, if it is open and its admin token still stands.
    pub(crate) async fn of(registry: &Registry, headers: &http::HeaderMap) -> Result<Session, Error> {
        let id = cookie(headers, SESSION_COOKIE)
            .ok_or_else(|| Error::new(ErrorKind::Authentication, "not signed in"))?;
        match registry.session(id).await? {
            Principal::Admin { organization } => Ok(Session {
                organization,
                csrf: csrf_token(id)
                    .ok_or_else(|| Error::internal("could not derive the session's CSRF token"))?,
                id: id.to_owned(),
            }),
            Principal::Agent { .. } => Err(Error::permission_denied(
                "an agent token cannot sign in to the console",
            )),
        }
    }
}

/// Pages redirect to the sign-in page when there is no session, and come back afterwards.
impl<S> FromRequestParts<S> for Session
where
    Arc<Registry>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let registry = Arc::<Registry>::from_ref(state);
        match Session::of(&registry, &parts.headers).await {
            Ok(session) => Ok(session),
            Err(_) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|path| path.as_str())
                    .filter(|path| is_local_path(path))
                    .unwrap_or("/connectors");
                let target = format!("/sign-in?next={}", encode_component(next));
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

/// A form posted by a signed-in administrator, with the session's CSRF token: handlers that change
/// anything take this, so none can forget the check. A wrong or missing token changes nothing.
pub(crate) struct SignedForm {
    pub(crate) session: Session,
    pub(crate) form: super::form::Posted,
}

impl<S> FromRequest<S> for SignedForm
where
    Arc<Registry>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let Form(form) = Form::<super::form::Posted>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !session.accepts(super::form::value(&form, "csrf")) {
            return Err(super::layout::forbidden_form(&session));
        }
        Ok(SignedForm { session, form })
    }
}

/// Whether `path` stays on this site (no scheme, no `//host`), so a `next` parameter cannot send an
/// administrator elsewhere after signing in.
pub(crate) fn is_local_path(path: &str) -> bool {
    // Browsers drop tabs and newlines from URLs, so `/\t/host` would become `//host`: allow visible ASCII
    // only.
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.chars().all(|c| c.is_ascii_graphic())
}

/// Percent-encodes a query component.
pub(crate) fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_belong_to_one_session() {
        let token = csrf_token("trb_one").unwrap();
        assert!(csrf_matches("trb_one", &token));
        assert!(!csrf_matches("trb_two", &token));
        assert!(!csrf_matches("trb_one", "not hex"));
        assert!(!csrf_matches("trb_one", ""));
    }

    #[test]
    fn next_paths_stay_on_this_site() {
        assert!(is_local_path("/connectors?type=postgresql"));
        assert!(!is_local_path("//evil.example/"));
        assert!(!is_local_path("https://evil.example/"));
        assert!(!is_local_path("/\\evil.example"));
        assert!(
            !is_local_path("/\t/evil.example"),
            "browsers drop the tab and see //evil.example"
        );
        assert!(!is_local_path("/\n/evil.example"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            http::HeaderValue::from_static("a=1; tributary_session=trb_x; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("trb_x"));
        assert_eq!(cookie(&headers, "missing"), None);
    }
}
