//! The assertion of the JWT bearer grant: RS256 over `{iss: client_id, sub: username, aud: login host,
//! exp: now + 3 minutes}`, signed with the connected app's private key.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use tributary_core::{Error, FieldError, Result};

use crate::config::SalesforceConfig;

/// Salesforce accepts assertions that expire within a few minutes.
const VALIDITY_SECONDS: i64 = 180;

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
}

pub(crate) fn assertion(config: &SalesforceConfig) -> Result<String> {
    let pem = config.private_key.as_ref().map_or("", |key| key.expose());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| {
        Error::invalid_config(vec![FieldError::new(
            "private_key",
            "is not a PEM RSA private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)",
        )])
    })?;
    let claims = Claims {
        iss: &config.client_id,
        sub: config.username.as_deref().unwrap_or_default(),
        aud: &config.login_host,
        exp: chrono::Utc::now().timestamp() + VALIDITY_SECONDS,
    };
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key)
        .map_err(|error| Error::internal(format!("could not sign the JWT assertion: {error}")))
}
