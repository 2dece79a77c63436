//! The token and authorize endpoints.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Shared;
use crate::process::random_hex;

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /services/oauth2/token`.
pub(super) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let credentials = &shared.credentials;
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let (client_id, client_secret) = basic_credentials(&headers)
        .unwrap_or_else(|| (field("client_id").to_owned(), field("client_secret").to_owned()));
    let grant = field("grant_type");
    if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" && client_id != credentials.client_id {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client_id",
            "client identifier invalid",
        );
    }
    let secret_ok = client_secret == credentials.client_secret;
    let mut refresh_token = None;
    match grant {
        "password" => {
            if !client_secret.is_empty() && !secret_ok {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client",
                    "invalid client credentials",
                );
            }
            let expected = format!("{}{}", credentials.password, credentials.security_token);
            if field("username") != credentials.username || field("password") != expected {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "authentication failure");
            }
        }
        "client_credentials" => {
            if !secret_ok {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client",
                    "invalid client credentials",
                );
            }
        }
        "refresh_token" => {
            let known = shared
                .lock()
                .refresh_tokens
                .iter()
                .any(|token| token == field("refresh_token"));
            if !known {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "expired access/refresh token",
                );
            }
        }
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            if let Err(description) = check_assertion(&shared, field("assertion")) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description);
            }
        }
        "authorization_code" => {
            let Some((challenge, redirect_uri)) = shared.lock().codes.remove(field("code")) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "invalid authorization code",
                );
            };
            if redirect_uri != field("redirect_uri") {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "redirect_uri must match configuration",
                );
            }
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(field("code_verifier").as_bytes()));
            if computed != challenge {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "invalid code verifier");
            }
            let issued = format!("5Aep{}", random_hex(24));
            shared.lock().refresh_tokens.push(issued.clone());
            refresh_token = Some(issued);
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant type not supported",
            );
        }
    }
    let access_token = format!("00D000000000001!{}", random_hex(24));
    let instance_url = {
        let mut inner = shared.lock();
        inner.tokens.insert(access_token.clone(), Instant::now());
        inner.tokens_issued += 1;
        inner.instance_url.clone().unwrap_or_else(|| shared.url.clone())
    };
    let mut body = json!({
        "id": format!("{}/id/00D000000000001AAA/005000000000001AAA", shared.url),
        "issued_at": chrono_millis(),
        "instance_url": instance_url,
        "signature": "dGVzdCBzaWduYXR1cmU=",
        "access_token": access_token,
        "token_type": "Bearer",
    });
    if let Some(refresh_token) = refresh_token {
        body["refresh_token"] = Value::String(refresh_token);
        body["scope"] = Value::String("api refresh_token".into());
    }
    axum::Json(body).into_response()
}

fn chrono_millis() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis().to_string())
        .unwrap_or_default()
}

fn check_assertion(shared: &Shared, assertion: &str) -> Result<(), &'static str> {
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(shared.public_key_pem.as_bytes())
        .map_err(|_| "server key error")?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[shared.url.as_str()]);
    validation.set_issuer(&[shared.credentials.client_id.as_str()]);
    let claims =
        jsonwebtoken::decode::<Value>(assertion, &key, &validation).map_err(|_| "invalid assertion")?;
    if claims.claims.get("sub").and_then(Value::as_str) != Some(shared.credentials.username.as_str()) {
        return Err("user hasn't approved this consumer");
    }
    Ok(())
}

/// `GET /services/oauth2/authorize`: approves at once and redirects back with a code.
pub(super) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    if field("client_id") != shared.credentials.client_id || field("response_type") != "code" {
        return (StatusCode::BAD_REQUEST, "error=invalid_client_id").into_response();
    }
    if field("code_challenge_method") != "S256" || field("code_challenge").is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "error=invalid_request (PKCE S256 required)",
        )
            .into_response();
    }
    let code = format!("aPrx{}", random_hex(16));
    shared.lock().codes.insert(
        code.clone(),
        (
            field("code_challenge").to_owned(),
            field("redirect_uri").to_owned(),
        ),
    );
    let separator = if field("redirect_uri").contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!(
        "{}{separator}code={code}&state={}",
        field("redirect_uri"),
        field("state")
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}
