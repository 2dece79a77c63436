//! The OAuth web-server flow with PKCE, for a console's "Connect with Salesforce" button.
//!
//! 1. [`AuthorizationRequest::new`] makes the URL to send the administrator's browser to, with a random
//!    `state` (to check on the way back) and a PKCE code challenge; keep the request until the callback.
//! 2. Salesforce redirects to `redirect_uri?code=...&state=...`; [`AuthorizationRequest::exchange`] checks
//!    the state and trades the code, with the PKCE verifier, for tokens.
//! 3. Store the refresh token as the connector's `refresh_token` secret, with the `refresh_token` grant.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use tributary_core::{Error, Result, Secret};

use crate::auth::grants;

/// A pending authorization: the URL to visit and what the callback must match.
pub struct AuthorizationRequest {
    /// The URL to send the browser to.
    pub url: String,
    /// The value the callback's `state` must carry.
    pub state: String,
    login_host: String,
    client_id: String,
    redirect_uri: String,
    verifier: Secret,
}

impl std::fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("url", &self.url)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// The tokens the flow yields.
pub struct FlowTokens {
    /// A first access token.
    pub access_token: Secret,
    /// The refresh token to store as the connector's secret (absent if the app does not issue one).
    pub refresh_token: Option<Secret>,
    /// The org's instance URL.
    pub instance_url: String,
}

impl std::fmt::Debug for FlowTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowTokens")
            .field("instance_url", &self.instance_url)
            .field("refresh_token", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

fn random_url_safe(bytes: usize) -> Result<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer)
        .map_err(|error| Error::internal(format!("no randomness available: {error}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer))
}

/// The S256 challenge of a PKCE verifier.
pub fn code_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl AuthorizationRequest {
    /// A new authorization for the connected app `client_id`, returning to `redirect_uri`.
    pub fn new(
        login_host: &str,
        client_id: &str,
        redirect_uri: &str,
        scope: Option<&str>,
    ) -> Result<AuthorizationRequest> {
        let login_host = login_host.trim_end_matches('/').to_owned();
        let state = random_url_safe(16)?;
        let verifier = random_url_safe(32)?;
        let mut url = reqwest::Url::parse(&format!("{login_host}/services/oauth2/authorize"))
            .map_err(|error| Error::invalid_input(format!("the login host is not a URL: {error}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", &state)
            .append_pair("code_challenge", &code_challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        if let Some(scope) = scope {
            url.query_pairs_mut().append_pair("scope", scope);
        }
        Ok(AuthorizationRequest {
            url: url.to_string(),
            state,
            login_host,
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            verifier: Secret::new(verifier),
        })
    }

    /// Trades the callback's `code` for tokens, after checking its `state`.
    pub async fn exchange(
        &self,
        http: &tributary_http::HttpClient,
        code: &str,
        state: &str,
        client_secret: Option<&Secret>,
    ) -> Result<FlowTokens> {
        if state != self.state {
            return Err(
                Error::permission_denied("the callback's state does not match this authorization")
                    .with_hint("start the sign-in again; a mismatched state can mean a forged callback"),
            );
        }
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("client_id", self.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("code_verifier", self.verifier.expose().to_owned()),
        ];
        if let Some(secret) = client_secret {
            form.push(("client_secret", secret.expose().to_owned()));
        }
        let response = grants::post(http, &self.login_host, &form).await?;
        Ok(FlowTokens {
            access_token: response.access_token,
            refresh_token: response.refresh_token,
            instance_url: response.instance_url,
        })
    }
}
