//! Salesforce errors mapped to Tributary's error kinds.
//!
//! REST errors are a JSON array of `{message, errorCode, fields}`; OAuth errors are
//! `{error, error_description}`. Salesforce's own message is kept, because it is what tells a caller which
//! field or token was wrong.

use serde::Deserialize;
use serde_json::Value;
use tributary_core::{Error, ErrorKind, FieldError};

/// One entry of a REST error array (`statusCode` in collection results, `errorCode` elsewhere).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ApiError {
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default, alias = "statusCode")]
    #[serde(rename = "errorCode")]
    pub(crate) error_code: String,
    #[serde(default)]
    pub(crate) fields: Vec<String>,
}

/// The first error of a REST error body, when the body is one.
pub(crate) fn first_error(body: &Value) -> Option<ApiError> {
    body.as_array()?
        .first()
        .and_then(|first| serde_json::from_value(first.clone()).ok())
}

/// Maps a failed REST response.
pub(crate) fn from_response(status: u16, body: &Value) -> Error {
    let api = first_error(body).unwrap_or_else(|| ApiError {
        message: format!("Salesforce answered HTTP {status}"),
        ..ApiError::default()
    });
    let code = api.error_code.as_str();
    let message = if code.is_empty() {
        format!("Salesforce: {}", api.message)
    } else {
        format!("Salesforce {code}: {}", api.message)
    };
    let (kind, hint) = match (status, code) {
        (401, _) => (
            ErrorKind::Authentication,
            "the session could not be renewed; check the connector's credentials",
        ),
        (403, "REQUEST_LIMIT_EXCEEDED") => (
            ErrorKind::RateLimited,
            "the org's API request limit is used up; wait until it resets (see the limits in the connection check)",
        ),
        (403, _) => (
            ErrorKind::PermissionDenied,
            "the Salesforce user lacks access to this object, field or record",
        ),
        (404, _) => (
            ErrorKind::NotFound,
            "check the object name and record id; list_objects shows what exists",
        ),
        (300, _) => (
            ErrorKind::Conflict,
            "several records match this external id; use a unique one",
        ),
        (409 | 412, _) | (_, "DUPLICATE_VALUE" | "ENTITY_IS_LOCKED" | "UNABLE_TO_LOCK_ROW") => (
            ErrorKind::Conflict,
            "the record conflicts with existing data or is locked",
        ),
        (400, "INVALID_SESSION_ID") => (ErrorKind::Authentication, "check the connector's credentials"),
        (500..=599, _) => (
            ErrorKind::Unreachable,
            "Salesforce had a server error; try again shortly",
        ),
        _ => (
            ErrorKind::InvalidInput,
            "correct the request as Salesforce's message says",
        ),
    };
    let retryable = status >= 500;
    let mut error = Error::new(kind, message)
        .with_hint(hint)
        .with_retryable(retryable);
    if !api.fields.is_empty() {
        error = error.with_fields(
            api.fields
                .iter()
                .map(|field| FieldError::new(field.clone(), api.message.clone()))
                .collect(),
        );
    }
    error
}

/// Maps a failed token request.
pub(crate) fn from_oauth(status: u16, body: &Value) -> Error {
    let code = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("unknown_error");
    let description = body
        .get("error_description")
        .and_then(Value::as_str)
        .unwrap_or("no description");
    let message = format!("Salesforce sign-in failed: {code}: {description}");
    match code {
        "unsupported_grant_type" | "invalid_client_id" | "invalid_client" | "invalid_request" => {
            Error::new(ErrorKind::InvalidConfig, message).with_hint("check the consumer key and secret, the sign-in method and the login host")
        }
        _ if status >= 500 => Error::new(ErrorKind::Unreachable, message).with_retryable(true),
        _ => Error::new(ErrorKind::Authentication, message)
            .with_hint("check the username, password and security token (or the key, or the refresh token) in the connector's settings"),
    }
}

/// Maps a transport failure (no HTTP answer).
/// Maps a failed send: a refusal of the host policy as it is, a transport failure as below.
pub(crate) fn from_send(error: tributary_http::SendError, what: &str) -> Error {
    match error {
        tributary_http::SendError::Refused(refusal) => refusal,
        tributary_http::SendError::Transport(error) => from_transport(&error, what),
    }
}

/// The most a Salesforce answer may hold: a page of 2,000 wide records fits; a server that sends more is
/// cut off as it sends.
pub(crate) const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// The most a token endpoint's answer may hold.
pub(crate) const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// Maps a failure to read a body.
pub(crate) fn from_body(error: tributary_http::BodyError, what: &str) -> Error {
    match error {
        tributary_http::BodyError::TooLarge { limit } => Error::invalid_input(format!(
            "the answer to the {what} is larger than {limit} bytes; Tributary stopped reading it"
        ))
        .with_hint("ask for fewer fields or records (a smaller max_rows, a narrower SELECT)")
        .with_retryable(false),
        tributary_http::BodyError::Transport(error) => from_transport(&error, what),
    }
}

pub(crate) fn from_transport(error: &reqwest::Error, what: &str) -> Error {
    if error.is_timeout() {
        Error::new(
            ErrorKind::Timeout,
            format!("Salesforce did not answer in time ({what})"),
        )
        .with_hint("Salesforce or the network is slow; raise request_timeout_seconds or ask for less")
        .with_retryable(true)
    } else if error.is_connect() {
        Error::new(
            ErrorKind::Unreachable,
            format!("could not connect to Salesforce ({what})"),
        )
        .with_hint("check the login host and that it is reachable from here")
        .with_retryable(true)
    } else if error.is_decode() {
        Error::new(
            ErrorKind::Internal,
            format!("Salesforce sent an answer that is not the expected JSON ({what})"),
        )
    } else {
        Error::new(
            ErrorKind::Unreachable,
            format!("the request to Salesforce failed ({what})"),
        )
        .with_retryable(true)
    }
}
