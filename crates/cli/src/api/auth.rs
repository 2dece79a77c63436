//! Bearer tokens. Every admin route extracts an [`Admin`]: the organization its token is scoped to,
//! which every registry call then uses, so one organization's admin never sees another's data.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use tributary_core::{Error, ErrorKind};
use tributary_registry::{Principal, Registry};

use super::error::ApiError;

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
        let token = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError(
                    Error::new(ErrorKind::Authentication, "this route needs an admin token")
                        .with_hint("send `Authorization: Bearer <admin token>`"),
                )
            })?;
        match registry.authenticate(token).await? {
            Principal::Admin { organization } => Ok(Admin(organization)),
            Principal::Agent { .. } => Err(ApiError(
                Error::permission_denied("agent tokens cannot use the admin API")
                    .with_hint("agents use /mcp; administrators use an admin token"),
            )),
        }
    }
}
