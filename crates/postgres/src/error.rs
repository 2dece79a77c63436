//! PostgreSQL and pool errors mapped to Tributary's error kinds, with messages that say what to do and
//! never carry a secret (server messages name users and objects, never passwords).

use deadpool::managed::{PoolError, TimeoutType};
use tokio_postgres::error::SqlState;
use tributary_core::{Error, ErrorKind};

use crate::connection::SessionError;

/// Maps a driver error; `address` names the server in connection errors.
pub(crate) fn from_driver(error: &tokio_postgres::Error, address: &str) -> Error {
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        let kind = match code.code() {
            "28P01" | "28000" => ErrorKind::Authentication,
            "42501" | "25006" => ErrorKind::PermissionDenied,
            "42P01" | "42703" | "42883" | "3D000" | "3F000" | "42704" => ErrorKind::NotFound,
            "57014" => ErrorKind::Timeout,
            "55P03" | "40001" | "40P01" => ErrorKind::Conflict,
            "53300" | "57P01" | "57P02" | "57P03" => ErrorKind::Unreachable,
            class if class.starts_with("23") => ErrorKind::Conflict,
            class if class.starts_with("42") || class.starts_with("22") || class.starts_with("0A") => {
                ErrorKind::InvalidInput
            }
            _ => ErrorKind::Internal,
        };
        let mut mapped = Error::new(kind, format!("PostgreSQL: {}", db.message()));
        if let Some(hint) = db.hint() {
            mapped = mapped.with_hint(hint.to_owned());
        } else if *code == SqlState::QUERY_CANCELED {
            mapped = mapped.with_hint(
                "the statement ran past the statement timeout; ask for less data or raise the timeout",
            );
        } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
            mapped = mapped.with_hint("this connector is read-only");
        }
        // Serialization failures and deadlocks go away on retry; a server shutting down comes back. A
        // statement the server cancelled at the statement timeout would only run as long again.
        let retryable = matches!(
            code.code(),
            "40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03"
        );
        return mapped.with_retryable(retryable);
    }
    let text = error.to_string();
    let io_kind = std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    if io_kind == Some(std::io::ErrorKind::InvalidInput) {
        // The driver refused to encode the request (a NUL byte in the statement): the input is wrong,
        // and no retry fixes it.
        Error::new(
            ErrorKind::InvalidInput,
            format!("PostgreSQL cannot take this statement: {}", source_text(error)),
        )
        .with_hint("remove NUL bytes from the statement and its values")
        .with_retryable(false)
    } else if text.contains("timeout") {
        Error::new(
            ErrorKind::Timeout,
            format!("PostgreSQL at {address} did not answer in time"),
        )
    } else if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        Error::new(
            ErrorKind::Unreachable,
            format!("PostgreSQL at {address} refused the connection"),
        )
        .with_hint("check the host and port, and that the server is running and accepts TCP connections")
    } else if text.contains("TLS") {
        Error::new(
            ErrorKind::Unreachable,
            format!("the TLS handshake with {address} failed: {}", source_text(error)),
        )
        .with_hint(
            "check tls_mode and the CA certificate; use require if the server's certificate is self-signed",
        )
        .with_retryable(false)
    } else if error.is_closed() || io_kind.is_some() || text.contains("connecting") {
        Error::new(
            ErrorKind::Unreachable,
            format!(
                "lost the connection to PostgreSQL at {address}: {}",
                source_text(error)
            ),
        )
    } else {
        Error::new(ErrorKind::Internal, format!("PostgreSQL driver error: {text}"))
    }
}

fn source_text(error: &tokio_postgres::Error) -> String {
    std::error::Error::source(error).map_or_else(|| error.to_string(), ToString::to_string)
}

/// Maps a pool error.
pub(crate) fn from_pool(
    error: PoolError<SessionError>,
    address: &str,
    connect_timeout_seconds: u64,
) -> Error {
    match error {
        PoolError::Backend(SessionError::Driver(error)) => from_driver(&error, address),
        PoolError::Backend(SessionError::Tributary(error)) => error,
        PoolError::Timeout(TimeoutType::Create) => Error::new(
            ErrorKind::Timeout,
            format!(
                "PostgreSQL at {address} did not complete a connection within {connect_timeout_seconds} s"
            ),
        )
        .with_hint(
            "check that the host and port point at a PostgreSQL server and that nothing drops the packets",
        ),
        PoolError::Timeout(TimeoutType::Wait) => Error::new(
            ErrorKind::Timeout,
            format!("every pooled connection to {address} stayed busy for {connect_timeout_seconds} s"),
        )
        .with_hint("try again shortly, or raise pool_size"),
        PoolError::Timeout(TimeoutType::Recycle) => Error::new(
            ErrorKind::Timeout,
            format!("checking a pooled connection to {address} took too long"),
        ),
        other => Error::internal(format!("the PostgreSQL connection pool failed: {other}")),
    }
}

/// A row (or other message) the session refused as it arrived, because it was larger than a connector reads.
pub(crate) fn too_large(refused: &crate::framing::MessageTooLarge, address: &str) -> Error {
    Error::invalid_input(format!(
        "PostgreSQL at {address} sent a row of {} bytes, more than the {} bytes a connector reads in one row",
        refused.size, refused.limit
    ))
    .with_hint("select fewer or shorter columns (for example with left() or substring())")
    .with_retryable(false)
}
