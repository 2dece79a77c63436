//! Token requests to `{login_host}/services/oauth2/token`, one form per grant type.

use serde::Deserialize;
use serde_json::Value;
use tributary_core::{Result, Secret};

use crate::auth::jwt;
use crate::config::{Grant, SalesforceConfig};
use crate::error;

/// What the token endpoint answers.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: Secret,
    pub(crate) instance_url: String,
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) refresh_token: Option<Secret>,
}

fn expose(secret: &Option<Secret>) -> &str {
    secret.as_ref().map_or("", Secret::expose)
}

/// Obtains a token with the configured grant.
pub(crate) async fn request(
    http: &tributary_http::HttpClient,
    config: &SalesforceConfig,
) -> Result<TokenResponse> {
    let mut form: Vec<(&str, String)> = vec![("client_id", config.client_id.clone())];
    let secret = expose(&config.client_secret).to_owned();
    match config.grant {
        Grant::Password => {
            form.push(("grant_type", "password".into()));
            form.push(("username", config.username.clone().unwrap_or_default()));
            form.push((
                "password",
                format!("{}{}", expose(&config.password), expose(&config.security_token)),
            ));
            if !secret.is_empty() {
                form.push(("client_secret", secret));
            }
        }
        Grant::ClientCredentials => {
            form.push(("grant_type", "client_credentials".into()));
            form.push(("client_secret", secret));
        }
        Grant::RefreshToken => {
            form.push(("grant_type", "refresh_token".into()));
            form.push(("refresh_token", expose(&config.refresh_token).to_owned()));
            if !secret.is_empty() {
                form.push(("client_secret", secret));
            }
        }
        Grant::JwtBearer => {
            form.push(("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".into()));
            form.push(("assertion", jwt::assertion(config)?));
        }
    }
    post(http, &config.login_host, &form).await
}

/// Posts a token form and maps the answer. The `instance_url` it names is checked before it is returned
/// (see `instance`), so no call ever goes to a host the token endpoint made up.
pub(crate) async fn post(
    http: &tributary_http::HttpClient,
    login_host: &str,
    form: &[(&str, String)],
) -> Result<TokenResponse> {
    let url = format!("{login_host}/services/oauth2/token");
    let request = http
        .reqwest()
        .post(&url)
        .form(form)
        .build()
        .map_err(|error| error::from_transport(&error, "token request"))?;
    let response = http
        .send(request)
        .await
        .map_err(|error| error::from_send(error, "token request"))?;
    let status = response.status().as_u16();
    let bytes = tributary_http::read_body(response, error::MAX_TOKEN_RESPONSE_BYTES)
        .await
        .map_err(|error| error::from_body(error, "token request"))?;
    let body: Value = serde_json::from_slice(&bytes).map_err(|_| {
        tributary_core::Error::new(
            tributary_core::ErrorKind::Authentication,
            "the token endpoint's answer is not JSON",
        )
        .with_hint("check login_host: it must be the org's Salesforce login host")
    })?;
    if status != 200 {
        return Err(error::from_oauth(status, &body));
    }
    let mut response: TokenResponse = serde_json::from_value(body).map_err(|_| {
        tributary_core::Error::internal("the Salesforce token response lacks access_token or instance_url")
    })?;
    response.instance_url = super::instance::check(http, login_host, &response.instance_url)?;
    Ok(response)
}
