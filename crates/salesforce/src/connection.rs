//! The REST session: one HTTP client (rustls), the shared token, and the request loop that renews an
//! expired session once and retries, within a fixed bound.

use std::sync::{Arc, Mutex};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tributary_core::{HostAccess, Result};
use tributary_http::HttpClient;

use crate::auth::{AccessToken, TokenSource};
use crate::config::SalesforceConfig;
use crate::error;

/// Attempts of one call: the first, and one more after renewing an expired session (plus one spare for a
/// token that expires between renewal and use).
const MAX_ATTEMPTS: usize = 3;

/// API usage from the last `Sforce-Limit-Info` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiUsage {
    /// Requests used in the current 24-hour window.
    pub used: u64,
    /// The org's limit.
    pub limit: u64,
}

/// A REST answer that succeeded.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

pub(crate) struct Session {
    config: Arc<SalesforceConfig>,
    http: HttpClient,
    tokens: TokenSource,
    usage: Mutex<Option<ApiUsage>>,
    secrets: Vec<String>,
}

impl Session {
    /// The session's HTTP client reaches Salesforce only through `host`: the login host is checked now, as
    /// written, and every host (the instance too) by its addresses when connected to.
    pub(crate) fn new(config: Arc<SalesforceConfig>, host: &HostAccess) -> Result<Session> {
        let http = crate::auth::login_client(&config, host)?;
        Ok(Session {
            tokens: TokenSource::new(config.clone(), http.clone()),
            secrets: config.secrets(),
            config,
            http,
            usage: Mutex::new(None),
        })
    }

    /// The HTTP client, for the web-server flow.
    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The current token (obtaining one if needed).
    pub(crate) async fn token(&self) -> Result<Arc<AccessToken>> {
        self.tokens
            .get()
            .await
            .map_err(|error| error.redact(&self.secrets))
    }

    /// Tokens obtained so far.
    pub(crate) fn tokens_obtained(&self) -> u64 {
        self.tokens.obtained()
    }

    /// The API usage Salesforce last reported.
    pub(crate) fn usage(&self) -> Option<ApiUsage> {
        self.usage.lock().ok().and_then(|usage| *usage)
    }

    /// `path` under the versioned data URL (`sobjects/Account/describe`).
    pub(crate) fn data_path(&self, path: &str) -> String {
        format!("/services/data/v{}/{path}", self.config.api_version)
    }

    /// Sends one request to `path` (absolute path on the instance), renewing the session once if it expired.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Answer> {
        let mut stale: Option<Arc<AccessToken>> = None;
        for _ in 0..MAX_ATTEMPTS {
            let token = match &stale {
                Some(stale) => self.tokens.renew(Some(stale)).await,
                None => self.tokens.get().await,
            }
            .map_err(|error| error.redact(&self.secrets))?;
            let mut request = self
                .http
                .reqwest()
                .request(method.clone(), format!("{}{path}", token.instance_url))
                .bearer_auth(token.token.expose())
                .header("Sforce-Query-Options", "batchSize=2000");
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let request = request
                .build()
                .map_err(|error| error::from_transport(&error, path))?;
            let response = self
                .http
                .send(request)
                .await
                .map_err(|error| error::from_send(error, path))?;
            self.record_usage(response.headers());
            let status = response.status();
            let body: Value = if status == StatusCode::NO_CONTENT {
                Value::Null
            } else {
                let bytes = tributary_http::read_body(response, error::MAX_RESPONSE_BYTES)
                    .await
                    .map_err(|error| error::from_body(error, path))?;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if text.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&text).unwrap_or(Value::String(text))
                }
            };
            if status == StatusCode::UNAUTHORIZED {
                stale = Some(token);
                continue;
            }
            if status.is_success() {
                return Ok(Answer {
                    status: status.as_u16(),
                    body,
                });
            }
            return Err(error::from_response(status.as_u16(), &body).redact(&self.secrets));
        }
        Err(error::from_response(401, &Value::Null).redact(&self.secrets))
    }

    fn record_usage(&self, headers: &reqwest::header::HeaderMap) {
        let Some(usage) = headers
            .get("Sforce-Limit-Info")
            .and_then(|value| value.to_str().ok())
            .and_then(parse_usage)
        else {
            return;
        };
        if let Ok(mut current) = self.usage.lock() {
            *current = Some(usage);
        }
    }
}

/// Reads `api-usage=18/5000` from a `Sforce-Limit-Info` header.
pub(crate) fn parse_usage(header: &str) -> Option<ApiUsage> {
    let numbers = header
        .split(';')
        .find_map(|part| part.trim().strip_prefix("api-usage="))?;
    let (used, limit) = numbers.split_once('/')?;
    Some(ApiUsage {
        used: used.parse().ok()?,
        limit: limit.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_read_from_the_limit_header() {
        assert_eq!(
            parse_usage("api-usage=18/5000"),
            Some(ApiUsage {
                used: 18,
                limit: 5000
            })
        );
        assert_eq!(
            parse_usage("api-usage=18/5000; per-app-api-usage=17/250(appName=x)"),
            Some(ApiUsage {
                used: 18,
                limit: 5000
            })
        );
        assert_eq!(parse_usage("per-app-api-usage=17/250"), None);
        assert_eq!(parse_usage("api-usage=x/5000"), None);
    }
}
