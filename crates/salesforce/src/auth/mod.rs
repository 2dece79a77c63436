//! Access tokens: obtained with the configured grant, cached, shared by concurrent calls, and renewed once
//! when Salesforce says the session expired, however many callers noticed at the same time.
//!
//! - `grants`: the token requests, one per grant type.
//! - `jwt`: the RS256 assertion of the JWT bearer grant.
//! - `instance`: the check of the `instance_url` a token response names (https, on Salesforce's domains or
//!   the login host's), before anything is sent there.
//! - [`web_flow`]: the authorization-code flow with PKCE, for "Connect with Salesforce" buttons.

mod grants;
mod instance;
mod jwt;
pub mod web_flow;

pub use instance::DEFAULT_DOMAINS as DEFAULT_INSTANCE_DOMAINS;

use std::sync::Arc;

use tokio::sync::{Mutex, RwLock};
use tributary_core::{Result, Secret};

use crate::config::SalesforceConfig;

/// The HTTP client sign-ins and calls go through: reaching only what `host` allows, with the login host
/// checked now, as written. The console's "Connect with Salesforce" exchanges its code through one too.
pub fn login_client(
    config: &SalesforceConfig,
    host: &tributary_core::HostAccess,
) -> Result<tributary_http::HttpClient> {
    let http = tributary_http::HttpClient::new(
        host,
        tributary_http::HttpOptions::new("login_host", config.connect_timeout())
            .timeout(std::time::Duration::from_secs(config.request_timeout_seconds))
            .allow_http(config.allow_http),
    )?;
    let login = reqwest::Url::parse(&config.login_host).map_err(|_| {
        tributary_core::Error::invalid_config(vec![tributary_core::FieldError::new(
            "login_host",
            "must be a URL such as https://login.salesforce.com",
        )])
    })?;
    http.check_url(&login)?;
    Ok(http)
}

/// A live access token and where to use it.
#[derive(Debug)]
pub(crate) struct AccessToken {
    /// The bearer token.
    pub(crate) token: Secret,
    /// The org's instance (`https://acme.my.salesforce.com`).
    pub(crate) instance_url: String,
    /// The identity URL, whose path holds the org and user ids.
    pub(crate) id: Option<String>,
}

impl AccessToken {
    /// The org id from the identity URL (`.../id/00D.../005...`).
    pub(crate) fn org_id(&self) -> Option<&str> {
        let mut parts = self.id.as_deref()?.rsplit('/');
        parts.next();
        parts.next()
    }
}

/// The shared token of one connector.
pub(crate) struct TokenSource {
    config: Arc<SalesforceConfig>,
    http: tributary_http::HttpClient,
    current: RwLock<Option<Arc<AccessToken>>>,
    /// Held while a token is being obtained, so concurrent callers wait for one request instead of each
    /// making their own.
    renewing: Mutex<()>,
    /// How many tokens this source has obtained, for checks and tests.
    obtained: std::sync::atomic::AtomicU64,
}

impl TokenSource {
    pub(crate) fn new(config: Arc<SalesforceConfig>, http: tributary_http::HttpClient) -> TokenSource {
        TokenSource {
            config,
            http,
            current: RwLock::new(None),
            renewing: Mutex::new(()),
            obtained: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The current token, obtaining one first if there is none.
    pub(crate) async fn get(&self) -> Result<Arc<AccessToken>> {
        if let Some(token) = self.current.read().await.clone() {
            return Ok(token);
        }
        self.renew(None).await
    }

    /// Replaces `stale` with a new token. When another caller already replaced it, returns theirs without
    /// asking Salesforce again.
    pub(crate) async fn renew(&self, stale: Option<&Arc<AccessToken>>) -> Result<Arc<AccessToken>> {
        let _turn = self.renewing.lock().await;
        if let Some(current) = self.current.read().await.clone() {
            let replaced = stale.is_none_or(|stale| !Arc::ptr_eq(stale, &current));
            if replaced {
                return Ok(current);
            }
        }
        let response = grants::request(&self.http, &self.config).await?;
        self.obtained.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = Arc::new(AccessToken {
            token: response.access_token,
            instance_url: response.instance_url,
            id: response.id,
        });
        *self.current.write().await = Some(token.clone());
        Ok(token)
    }

    /// How many tokens were obtained so far.
    pub(crate) fn obtained(&self) -> u64 {
        self.obtained.load(std::sync::atomic::Ordering::Relaxed)
    }
}
