//! Bearer tokens (or the console's session cookie with its CSRF header). Every admin route extracts an [`Admin`]: the organization its token is scoped to,
//! which every registry call then uses, so one organization's admin never sees another's data.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use tributary_core::{Error, ErrorKind};
use tributary_registry::{Principal, Registry};

use super::error::ApiError;
use crate::console::session::{CSRF_HEADER, SESSION_COOKIE, cookie, csrf_matches};

/// The console's session id, accepted only with its CSRF header, so that another site cannot make a
/// signed-in browser call the API.
fn console_session(headers: &http::HeaderMap) -> Result<&str, ApiError> {
    let Some(session) = cookie(headers, SESSION_COOKIE) else {
        return Err(ApiError::from(
            Error::new(ErrorKind::Authentication, "this route needs an admin token")
                .with_hint("send `Authorization: Bearer <admin token>`"),
        ));
    };
    let csrf = headers
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if csrf_matches(session, csrf) {
        Ok(session)
    } else {
        Err(ApiError::from(
            Error::permission_denied("a request with the console's session cookie needs its CSRF token")
                .with_hint(format!(
                    "send the page's csrf-token in the `{CSRF_HEADER}` header"
                )),
        ))
    }
}

/// The organization an admin token speaks for.
#[derive(Debug, Clone)]
pub(crate) struct Admin(pub(crate) String);

impl<S> FromRequestParts<S> for Admin
where
    Arc<Registry>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let registry = Arc::<Registry>::from_ref(state);
        let bearer = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        let principal = match bearer {
            Some(token) => registry.authenticate(token).await?,
            None => registry.session(console_session(&parts.headers)?).await?,
        };
        match principal {
            Principal::Admin { organization } => Ok(Admin(organization)),
            Principal::Agent { .. } => Err(ApiError::from(
                Error::permission_denied("agent tokens cannot use the admin API")
                    .with_hint("agents use /mcp; administrators use an admin token"),
            )),
        }
    }
}
