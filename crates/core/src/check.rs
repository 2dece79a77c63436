//! Connection checks: a real round trip to the data source, reported in a form that the console, the API
//! and an agent can all show.
//!
//! [`CheckReport::run`] is how every connector implements [`Connector::check`](crate::Connector::check): the
//! connector supplies the probe (connect, authenticate, run a trivial call) and `run` bounds it with a
//! timeout, measures latency, and turns a panic into an error, so a check never hangs and never takes its
//! caller down.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::FutureExt as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorKind, ErrorReport, Result};

/// Whether the check reached the data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Connected, authenticated, and the trivial call succeeded.
    Connected,
    /// Something failed; see the report's error.
    Error,
}

/// What the data source said about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// The product (`PostgreSQL`, `MariaDB`, `Salesforce`).
    pub product: String,
    /// Its version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Anything else worth showing (instance, region, API usage).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, Value>,
}

impl ServerInfo {
    /// Server details with a product name and version.
    pub fn new(product: impl Into<String>, version: Option<String>) -> Self {
        ServerInfo {
            product: product.into(),
            version,
            details: BTreeMap::new(),
        }
    }

    /// Adds one detail.
    #[must_use]
    pub fn with_detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }
}

/// The outcome of a connection check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Connected or error.
    pub status: CheckStatus,
    /// How long the check took, in milliseconds (fractional).
    pub latency_ms: f64,
    /// When the check finished.
    pub checked_at: DateTime<Utc>,
    /// The server's details, when connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerInfo>,
    /// The classified error, when not connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

impl CheckReport {
    /// Runs `probe` within `timeout` and reports the outcome.
    ///
    /// A probe that outlives the timeout is dropped (cancelling its I/O) and reported as
    /// [`ErrorKind::Timeout`]; a probe that panics is reported as [`ErrorKind::Internal`].
    pub async fn run<F>(timeout: Duration, probe: F) -> CheckReport
    where
        F: Future<Output = Result<ServerInfo>>,
    {
        let started = Instant::now();
        let outcome = tokio::time::timeout(timeout, AssertUnwindSafe(probe).catch_unwind()).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let result = match outcome {
            Ok(Ok(result)) => result,
            Ok(Err(_panic)) => Err(Error::internal("the connection check failed unexpectedly (it panicked)")),
            Err(_elapsed) => Err(Error::new(
                ErrorKind::Timeout,
                format!("the data source did not answer within {} ms", timeout.as_millis()),
            )
            .with_hint(
                "check that the host and port are right and reachable from here; a firewall that drops packets \
                 looks like this. Raise the connect timeout if the server is just slow",
            )),
        };
        CheckReport::from_result(result, latency_ms)
    }

    /// A report from a probe's result and the time it took.
    pub fn from_result(result: Result<ServerInfo>, latency_ms: f64) -> CheckReport {
        let checked_at = Utc::now();
        match result {
            Ok(server) => CheckReport {
                status: CheckStatus::Connected,
                latency_ms,
                checked_at,
                server: Some(server),
                error: None,
            },
            Err(error) => CheckReport {
                status: CheckStatus::Error,
                latency_ms,
                checked_at,
                server: None,
                error: Some(error.report()),
            },
        }
    }

    /// Whether the check succeeded.
    pub fn is_connected(&self) -> bool {
        self.status == CheckStatus::Connected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_successful_probe_reports_server_and_latency() {
        let report = CheckReport::run(Duration::from_secs(5), async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(ServerInfo::new("PostgreSQL", Some("15.4".into())).with_detail("database", "shop"))
        })
        .await;
        assert!(report.is_connected());
        assert!(report.latency_ms >= 20.0, "{}", report.latency_ms);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["status"], "connected");
        assert_eq!(json["server"]["details"]["database"], "shop");
        assert!(json.get("error").is_none());
    }

    #[tokio::test]
    async fn a_failed_probe_keeps_its_error_kind() {
        let report = CheckReport::run(Duration::from_secs(5), async {
            Err(Error::new(
                ErrorKind::Authentication,
                "password authentication failed for user \"agent\"",
            ))
        })
        .await;
        assert_eq!(report.status, CheckStatus::Error);
        let error = report.error.unwrap();
        assert_eq!(error.kind, ErrorKind::Authentication);
        assert!(!error.retryable);
    }

    #[tokio::test]
    async fn a_hanging_probe_times_out_on_time() {
        let started = Instant::now();
        let report = CheckReport::run(Duration::from_millis(100), std::future::pending()).await;
        assert!(started.elapsed() < Duration::from_secs(2));
        let error = report.error.unwrap();
        assert_eq!(error.kind, ErrorKind::Timeout);
        assert!(error.message.contains("100 ms"), "{}", error.message);
        assert!(error.retryable);
    }

    #[tokio::test]
    async fn a_panicking_probe_becomes_an_internal_error() {
        let report = CheckReport::run(Duration::from_secs(1), async {
            let empty: Vec<u8> = Vec::new();
            #[allow(clippy::indexing_slicing)]
            let _ = empty[3];
            Ok(ServerInfo::default())
        })
        .await;
        assert_eq!(report.error.unwrap().kind, ErrorKind::Internal);
    }
}
