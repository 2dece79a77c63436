//! Errors as JSON with a stable code: `{"error": {"code": "not_found", "message": ..., "hint": ...,
//! "fields": [...]}}`, and the HTTP status that goes with the code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tributary_core::{Error, ErrorKind};

/// A failed request: the error, and the HTTP status when its kind's is not the right one (`413`).
#[derive(Debug)]
pub(crate) struct ApiError {
    error: Error,
    status: Option<StatusCode>,
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError { error, status: None }
    }
}

impl ApiError {
    /// The error, answered with `status` instead of its kind's.
    pub(crate) fn with_status(error: Error, status: StatusCode) -> ApiError {
        ApiError {
            error,
            status: Some(status),
        }
    }
}

fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidConfig | ErrorKind::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Authentication => StatusCode::UNAUTHORIZED,
        ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unsupported => StatusCode::BAD_REQUEST,
        ErrorKind::Unreachable => StatusCode::BAD_GATEWAY,
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let report = self.error.report();
        let body = serde_json::json!({ "error": {
            "code": report.kind.code(),
            "message": report.message,
            "hint": report.hint,
            "retryable": report.retryable,
            "fields": report.fields,
        }});
        (self.status.unwrap_or_else(|| status(report.kind)), Json(body)).into_response()
    }
}

/// Unknown routes, as JSON like every other error.
pub(crate) async fn not_found() -> ApiError {
    ApiError::from(Error::not_found("no such route").with_hint("see /api/v1/openapi.json for the routes"))
}

/// A body that is not the JSON a route expects.
pub(crate) fn bad_body(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
    let status = rejection.status();
    let error = Error::invalid_input(format!(
        "the request body is not accepted: {}",
        rejection.body_text()
    ));
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::with_status(
            error.with_hint(format!("requests are limited to {} bytes", super::MAX_BODY)),
            StatusCode::PAYLOAD_TOO_LARGE,
        );
    }
    ApiError::from(error.with_hint("send JSON as /api/v1/openapi.json describes"))
}
