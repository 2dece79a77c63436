//! SQLite errors mapped to Tributary's error kinds.

use rusqlite::ErrorCode;
use tributary_core::{Error, ErrorKind};

/// Maps a driver error; `path` names the database in messages.
pub(crate) fn from_driver(error: rusqlite::Error, path: &str) -> Error {
    // Errors in the statement text arrive as `SqlInputError` (with the statement and offset, which the
    // message leaves out: the caller has the statement), the rest as `SqliteFailure`.
    let failure = match &error {
        rusqlite::Error::SqliteFailure(failure, message) => Some((failure, message.clone())),
        rusqlite::Error::SqlInputError {
            error: failure, msg, ..
        } => Some((failure, Some(msg.clone()))),
        _ => None,
    };
    match (&error, failure) {
        (_, Some((failure, message))) => {
            let text = message.unwrap_or_else(|| failure.to_string());
            let (kind, hint) = match failure.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => (
                    ErrorKind::Timeout,
                    "another process holds a lock on the database; try again",
                ),
                ErrorCode::OperationInterrupted => (
                    ErrorKind::Timeout,
                    "the statement ran past the statement timeout; ask for less data",
                ),
                ErrorCode::ConstraintViolation => (
                    ErrorKind::Conflict,
                    "the values conflict with a key or constraint",
                ),
                ErrorCode::ReadOnly => (ErrorKind::PermissionDenied, "this SQLite connector is read-only"),
                ErrorCode::AuthorizationForStatementDenied => (
                    ErrorKind::PermissionDenied,
                    "only reads and side-effect-free functions are allowed in a query",
                ),
                ErrorCode::CannotOpen => (
                    ErrorKind::NotFound,
                    "check the path, or turn on create_if_missing",
                ),
                ErrorCode::NotADatabase => (ErrorKind::InvalidConfig, "the file is not a SQLite database"),
                ErrorCode::TooBig => (
                    ErrorKind::InvalidInput,
                    "a value is larger than the 4 MiB a connector reads; select shorter values",
                ),
                ErrorCode::PermissionDenied => (
                    ErrorKind::PermissionDenied,
                    "the Tributary host may not read this file",
                ),
                _ if text.starts_with("no such table") || text.starts_with("no such column") => (
                    ErrorKind::NotFound,
                    "call list_objects and describe_object to see what exists",
                ),
                _ => (
                    ErrorKind::InvalidInput,
                    "correct the statement as the message says",
                ),
            };
            let retryable = matches!(failure.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked);
            let message = if failure.code == ErrorCode::CannotOpen {
                format!("SQLite: cannot open the database at {path}")
            } else {
                format!("SQLite: {text}")
            };
            Error::new(kind, message)
                .with_hint(hint)
                .with_retryable(retryable)
        }
        (rusqlite::Error::InvalidParameterCount(given, expected), None) => Error::invalid_input(format!(
            "the statement has {expected} placeholder(s) but {given} parameter value(s) were given"
        ))
        .with_hint("pass exactly one value in params for each ? placeholder"),
        _ => Error::new(ErrorKind::Internal, format!("SQLite driver error: {error}")),
    }
}

/// A failure inside a blocking SQLite call: the driver's, or one of Tributary's own checks. `?` converts
/// both, and the call maps the result once, with the database's path, when it returns.
pub(crate) enum Failure {
    /// The driver failed.
    Driver(rusqlite::Error),
    /// A Tributary check failed.
    Tributary(Error),
}

impl Failure {
    /// The Tributary error for this failure.
    pub(crate) fn into_error(self, path: &str) -> Error {
        match self {
            Failure::Driver(error) => from_driver(error, path),
            Failure::Tributary(error) => error,
        }
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Self {
        Failure::Driver(error)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Tributary(error)
    }
}
