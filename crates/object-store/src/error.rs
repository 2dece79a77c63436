//! object_store errors mapped to Tributary's error kinds.
//!
//! object_store sorts HTTP answers into a few variants (404 → `NotFound`, 403 → `PermissionDenied`) and
//! keeps the server's error body in the source chain; the S3 error code in that body (`NoSuchBucket`,
//! `SignatureDoesNotMatch`) is what tells a missing bucket from a missing key, and bad credentials from a
//! refused access. Network failures are found by walking the chain down to object_store's `HttpError`.

use std::error::Error as StdError;

use object_store::client::{HttpError, HttpErrorKind};
use tributary_core::{Error, ErrorKind};

/// Error codes that mean the credentials themselves are wrong, across S3, GCS and Azure.
const BAD_CREDENTIALS: &[&str] = &[
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "NotSignedUp",
    "InvalidToken",
    "ExpiredToken",
    "TokenRefreshRequired",
    "AuthenticationFailed",
    "InvalidAuthenticationInfo",
    "invalid_grant",
];

/// What was being done, for messages: the store's name and the key or prefix involved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    /// The bucket, container or folder.
    pub(crate) bucket: &'a str,
    /// The key or prefix, when there is one.
    pub(crate) key: Option<&'a str>,
}

/// Maps an object_store error.
pub(crate) fn from_store(error: object_store::Error, context: Context<'_>) -> Error {
    // The host policy refused a URL or an address while the request was made: say that, as it said it.
    if let Some(refusal) = Error::find_in(&error) {
        return refusal;
    }
    let detail = chain_text(&error);
    let bucket = context.bucket;
    let target = context.key.map_or_else(
        || format!("bucket `{bucket}`"),
        |key| format!("`{key}` in bucket `{bucket}`"),
    );
    let status = status_code(&detail);
    let mapped = match &error {
        object_store::Error::NotFound { .. } => not_found(&detail, bucket, &target),
        object_store::Error::Generic { .. } if status == Some(404) => not_found(&detail, bucket, &target),
        object_store::Error::AlreadyExists { .. } => {
            Error::new(ErrorKind::Conflict, format!("{target} already exists"))
        }
        object_store::Error::Precondition { .. } | object_store::Error::NotModified { .. } => Error::new(
            ErrorKind::Conflict,
            format!("{target} changed while the call ran"),
        )
        .with_retryable(true),
        object_store::Error::Unauthenticated { .. } => bad_credentials(bucket),
        object_store::Error::Generic { .. } if status == Some(401) => bad_credentials(bucket),
        object_store::Error::PermissionDenied { .. } => refused(&detail, bucket, &target),
        object_store::Error::Generic { .. } if status == Some(403) => refused(&detail, bucket, &target),
        object_store::Error::NotSupported { .. } | object_store::Error::NotImplemented { .. } => Error::new(
            ErrorKind::Unsupported,
            format!("this store does not support that: {detail}"),
        ),
        object_store::Error::InvalidPath { .. } => Error::invalid_input(format!("invalid key: {detail}")),
        _ => from_transport(&error, &detail, &target),
    };
    mapped.with_source(error)
}

fn not_found(detail: &str, bucket: &str, target: &str) -> Error {
    if detail.contains("NoSuchBucket") || detail.contains("ContainerNotFound") {
        Error::new(
            ErrorKind::NotFound,
            format!("the bucket `{bucket}` does not exist"),
        )
        .with_hint("check the bucket name and region in the connector's settings")
    } else {
        Error::new(ErrorKind::NotFound, format!("no object at {target}"))
            .with_hint("call list with a prefix to see which keys exist")
    }
}

/// A 403: wrong credentials, or valid credentials whose policy does not allow the call.
fn refused(detail: &str, bucket: &str, target: &str) -> Error {
    if BAD_CREDENTIALS.iter().any(|code| detail.contains(code)) {
        return bad_credentials(bucket);
    }
    Error::new(
        ErrorKind::PermissionDenied,
        format!("the store refused access to {target}"),
    )
    .with_hint("the credentials are valid but their policy does not allow this; ask the bucket's owner")
}

/// The HTTP status object_store quotes in its message (`status code: 403 Forbidden`).
fn status_code(detail: &str) -> Option<u16> {
    let (_, after) = detail.split_once("status code: ")?;
    after.get(..3)?.parse().ok()
}

fn bad_credentials(bucket: &str) -> Error {
    Error::new(
        ErrorKind::Authentication,
        format!("the store rejected the credentials for bucket `{bucket}`"),
    )
    .with_hint("check the access key and secret (or token) in the connector's settings, and that the region is right")
}

/// Network failures, throttling and server errors.
fn from_transport(error: &object_store::Error, detail: &str, target: &str) -> Error {
    match http_error_kind(error) {
        Some(HttpErrorKind::Connect) => Error::new(
            ErrorKind::Unreachable,
            format!("could not connect to the store for {target}"),
        )
        .with_hint("check the endpoint URL and that the server is running and reachable from here")
        .with_retryable(true),
        Some(HttpErrorKind::Timeout) => Error::new(
            ErrorKind::Timeout,
            format!("the store did not answer in time for {target}"),
        )
        .with_hint(
            "the server is slow or a firewall drops packets; raise request_timeout_seconds for large objects",
        )
        .with_retryable(true),
        Some(HttpErrorKind::Request | HttpErrorKind::Interrupted) => Error::new(
            ErrorKind::Unreachable,
            format!("the connection to the store broke during the call for {target}"),
        )
        .with_retryable(true),
        _ if detail.contains("SlowDown")
            || detail.contains("429 Too Many Requests")
            || detail.contains("TooManyRequests") =>
        {
            Error::new(
                ErrorKind::RateLimited,
                format!("the store is throttling requests for {target}"),
            )
            .with_hint("wait and try again with fewer requests")
            .with_retryable(true)
        }
        _ if detail.contains("InvalidRange")
            || status_code(detail) == Some(416)
            || detail.contains("Wanted range") =>
        {
            Error::invalid_input(format!("the byte range is outside {target}"))
                .with_hint("call head for the object's size")
        }
        _ if detail.contains("builder error")
            || detail.contains("BadScheme")
            || detail.contains("URL scheme is not allowed") =>
        {
            Error::new(
                ErrorKind::InvalidConfig,
                format!("the endpoint cannot be used: {detail}"),
            )
            .with_hint("plain http:// endpoints need allow_http turned on")
        }
        _ if status_code(detail).is_some_and(|status| status >= 500) || detail.contains("InternalError") => {
            Error::new(
                ErrorKind::Unreachable,
                format!("the store failed to serve {target}: {detail}"),
            )
            .with_retryable(true)
        }
        _ => Error::new(
            ErrorKind::Internal,
            format!("the store failed for {target}: {detail}"),
        ),
    }
}

fn http_error_kind(error: &object_store::Error) -> Option<HttpErrorKind> {
    let mut source: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(current) = source {
        if let Some(http) = current.downcast_ref::<HttpError>() {
            return Some(http.kind());
        }
        source = current.source();
    }
    None
}

/// The error and its sources as one line, for classification and for messages.
fn chain_text(error: &object_store::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(current) = source {
        let next = current.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = current.source();
    }
    text
}
