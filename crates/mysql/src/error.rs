//! MySQL and MariaDB errors mapped to Tributary's error kinds, with messages that never carry a secret.

use mysql_common::proto::codec::error::PacketCodecError;
use tributary_core::{Error, ErrorKind};

/// Whether the driver refused an incoming packet past `max_allowed_packet` (its codec's error, carried
/// inside an `io::Error`).
fn packet_too_large(io: &mysql_async::IoError) -> bool {
    matches!(io, mysql_async::IoError::Io(inner)
        if inner.get_ref().and_then(|inner| inner.downcast_ref::<PacketCodecError>())
            .is_some_and(|codec| matches!(codec, PacketCodecError::PacketTooLarge)))
}

/// Maps a driver error; `address` names the server in connection errors.
pub(crate) fn from_driver(error: &mysql_async::Error, address: &str) -> Error {
    match error {
        mysql_async::Error::Server(server) => {
            let kind = match server.code {
                1045 | 1698 => ErrorKind::Authentication,
                1044 | 1142 | 1143 | 1227 | 1290 | 1792 | 1370 => ErrorKind::PermissionDenied,
                1146 | 1054 | 1049 | 1305 | 1051 => ErrorKind::NotFound,
                1969 | 3024 | 1317 => ErrorKind::Timeout,
                1062 | 1451 | 1452 | 1205 | 1213 | 1022 | 1586 => ErrorKind::Conflict,
                1040 | 1053 | 1077 | 1152 => ErrorKind::Unreachable,
                // Syntax, bad values, wrong counts: what the caller sent needs fixing.
                _ => ErrorKind::InvalidInput,
            };
            // Lock waits, deadlocks and a server out of connections or shutting down go away on retry; a
            // statement the server stopped at the statement timeout would only run as long again.
            let retryable = matches!(server.code, 1205 | 1213 | 1040 | 1053 | 1077 | 1152);
            let mut mapped = Error::new(kind, format!("MySQL: {}", server.message)).with_retryable(retryable);
            if matches!(server.code, 1969 | 3024) {
                mapped = mapped.with_hint(
                    "the statement ran past the statement timeout; ask for less data or raise the timeout",
                );
            } else if matches!(server.code, 1792 | 1290) {
                mapped = mapped.with_hint("this connector is read-only");
            }
            mapped
        }
        mysql_async::Error::Io(io) if packet_too_large(io) => Error::invalid_input(format!(
            "MySQL at {address} sent a row larger than the {} bytes a connector reads in one row",
            tributary_core::budget::MAX_VALUE_BYTES
        ))
        .with_hint("select fewer or shorter columns (for example with LEFT() or SUBSTRING())")
        .with_retryable(false),
        mysql_async::Error::Driver(mysql_async::DriverError::PacketTooLarge) => Error::invalid_input(
            "a value is larger than the MySQL server or the connector accepts in one packet",
        )
        .with_retryable(false),
        mysql_async::Error::Io(io) => {
            let text = io.to_string();
            let refused = matches!(io, mysql_async::IoError::Io(inner) if inner.kind() == std::io::ErrorKind::ConnectionRefused);
            if refused {
                Error::new(
                    ErrorKind::Unreachable,
                    format!("MySQL at {address} refused the connection"),
                )
                .with_hint(
                    "check the host and port, and that the server is running and accepts TCP connections",
                )
            } else if text.to_lowercase().contains("tls") || text.to_lowercase().contains("certificate") {
                Error::new(
                    ErrorKind::Unreachable,
                    format!("the TLS handshake with {address} failed: {text}"),
                )
                .with_hint(
                    "check tls_mode and the CA certificate; use require if the certificate is self-signed",
                )
                .with_retryable(false)
            } else {
                Error::new(
                    ErrorKind::Unreachable,
                    format!("lost the connection to MySQL at {address}: {text}"),
                )
            }
        }
        mysql_async::Error::Driver(driver) => {
            let text = driver.to_string();
            if text.contains("TLS") || text.contains("SSL") {
                // The driver's own words are kept: `prefer` recognizes "server does not have this capability".
                Error::new(ErrorKind::Unreachable, format!("MySQL at {address}: {text}"))
                    .with_hint(
                        "the server does not offer TLS; set tls_mode to disable only on a trusted network",
                    )
                    .with_retryable(false)
            } else if text.contains("Connection to the server is closed") || text.contains("closed") {
                Error::new(
                    ErrorKind::Unreachable,
                    format!("lost the connection to MySQL at {address}"),
                )
            } else {
                Error::new(ErrorKind::Internal, format!("MySQL driver error: {text}"))
            }
        }
        other => Error::internal(format!("MySQL driver error: {other}")),
    }
}
